package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/fold"
)

func seedCommand(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "directory" {
		fmt.Fprintln(os.Stderr, "Usage: herald-bench seed directory [flags]")
		return errors.New("name what to seed: directory")
	}
	return seedDirectory(ctx, args[1:])
}

// seedDirectory fills a store with listed channels for the directory
// benchmark: French and English names with accents, categories, countries
// and languages spread out, Zipf-like follower counts, some weekly activity.
func seedDirectory(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("herald-bench seed directory", flag.ContinueOnError)
	n := fs.Int("channels", 1_000_000, "channels to create")
	dataDir := fs.String("data", envOr("HERALD_DATA", "./herald-data"), "data directory (HERALD_DATA)")
	batch := fs.Int("batch", 50_000, "channels per transaction")
	seed := fs.Uint64("seed", 1, "random seed (same seed, same channels)")
	optimizeOnly := fs.Bool("optimize-only", false, "only merge the search index of an existing store")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *n < 1 || *batch < 1 {
		return errors.New("--channels and --batch must be positive")
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	db, owner, err := openSeeded(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer db.close()

	if *optimizeOnly {
		start := time.Now()
		if err := db.optimize(ctx); err != nil {
			return err
		}
		fmt.Printf("search index optimized in %s\n", time.Since(start).Round(time.Second))
		return db.checkpoint(ctx)
	}
	g := newChannelGen(*seed, *n)
	start := time.Now()
	for done := 0; done < *n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		size := min(*batch, *n-done)
		chans := make([]seedChannel, size)
		for i := range chans {
			chans[i] = g.next()
		}
		if err := db.seedChannels(ctx, owner, chans); err != nil {
			return err
		}
		done += size
		el := time.Since(start)
		fmt.Printf("%d/%d channels, %s, %.0f/s\n", done, *n, el.Round(time.Second), float64(done)/el.Seconds())
	}
	fmt.Println("optimizing the search index...")
	if err := db.optimize(ctx); err != nil {
		return err
	}
	fmt.Println("checkpointing...")
	if err := db.checkpoint(ctx); err != nil {
		return err
	}
	fmt.Printf("seeded %d channels in %s into %s\n", *n, time.Since(start).Round(time.Second), *dataDir)
	return nil
}

type place struct{ name, country, lang string }

var (
	frPlaces = strings.Split("Paris|Lyon|Marseille|Toulouse|Nice|Nantes|Strasbourg|Montpellier|Bordeaux|Lille|Rennes|Reims|"+
		"Saint-Étienne|Le Havre|Grenoble|Dijon|Angers|Nîmes|Besançon|Orléans|Rouen|Mulhouse|Caen|Nancy|Metz|Perpignan|"+
		"Clermont-Ferrand|Limoges|Tours|Amiens|Brest|Le Mans|Aix-en-Provence|Annecy|Chambéry|Valence|Poitiers|Pau|"+
		"Bayonne|La Rochelle|Île-de-France|Bretagne|Provence|Alsace|Occitanie|Normandie|Côte d'Azur|Savoie|Corse|"+
		"Auvergne|Hauts-de-France|Pays de la Loire|Gironde|Finistère|Ardèche|Hérault|Vendée|Lozère|Drôme|Isère", "|")
	otherFr = []place{{"Genève", "CH", "fr"}, {"Lausanne", "CH", "fr"}, {"Neuchâtel", "CH", "fr"}, {"Bruxelles", "BE", "fr"},
		{"Liège", "BE", "fr"}, {"Namur", "BE", "fr"}, {"Québec", "CA", "fr"}, {"Montréal", "CA", "fr"}, {"Dakar", "SN", "fr"},
		{"Abidjan", "CI", "fr"}, {"Luxembourg", "LU", "fr"}, {"Monaco", "MC", "fr"}}
	enPlaces = []place{{"London", "GB", "en"}, {"Manchester", "GB", "en"}, {"Bristol", "GB", "en"}, {"Edinburgh", "GB", "en"},
		{"Dublin", "IE", "en"}, {"Boston", "US", "en"}, {"Chicago", "US", "en"}, {"Seattle", "US", "en"}, {"Austin", "US", "en"},
		{"Denver", "US", "en"}, {"Portland", "US", "en"}, {"Brooklyn", "US", "en"}, {"Toronto", "CA", "en"},
		{"Vancouver", "CA", "en"}, {"Sydney", "AU", "en"}, {"Melbourne", "AU", "en"}, {"Auckland", "NZ", "en"},
		{"Cape Town", "ZA", "en"}, {"Lagos", "NG", "en"}, {"Nairobi", "KE", "en"}, {"Singapore", "SG", "en"}, {"Mumbai", "IN", "en"}}
	others = []place{{"Berlin", "DE", "de"}, {"München", "DE", "de"}, {"Zürich", "CH", "de"}, {"Wien", "AT", "de"},
		{"Madrid", "ES", "es"}, {"Sevilla", "ES", "es"}, {"México", "MX", "es"}, {"Roma", "IT", "it"}, {"Milano", "IT", "it"},
		{"Lisboa", "PT", "pt"}, {"São Paulo", "BR", "pt-BR"}, {"Kraków", "PL", "pl"}, {"Praha", "CZ", "cs"}}
)

// Topic words per category, French then English.
var topics = map[string][2][]string{
	"news":          {{"Actualités", "Infos", "Le Journal de", "La Gazette de", "Le Fil", "L'Écho de", "Dépêches"}, {"News", "Daily", "Herald", "Times", "Briefing", "Headlines"}},
	"weather":       {{"Météo", "Prévisions", "Alertes météo", "Ciel de", "Orages", "Neige et montagne"}, {"Weather", "Forecast", "Storm Watch", "Sky", "Rain Radar"}},
	"traffic":       {{"Trafic", "Circulation", "Info route", "Bouchons", "Transports", "Bison Futé"}, {"Traffic", "Commute", "Road Report", "Transit", "Rail Updates"}},
	"cooking":       {{"Cuisine", "Recettes", "Pâtisserie", "Cuisine de Mamie", "Saveurs de", "Bistrot", "Fromages"}, {"Cooking", "Recipes", "Baking", "Kitchen", "Food Lovers", "Street Food"}},
	"sports":        {{"Foot", "Rugby", "Cyclisme", "Handball", "Basket", "Pétanque", "Résultats sportifs"}, {"Sports", "Football", "Running Club", "Cricket", "Hockey", "Match Day"}},
	"business":      {{"Économie", "Bourse", "Entreprises", "Emploi", "Immobilier"}, {"Business", "Markets", "Startups", "Jobs", "Finance"}},
	"entertainment": {{"Cinéma", "Séries", "Sorties", "Théâtre", "Humour", "Festival"}, {"Movies", "TV Shows", "Entertainment", "Gaming", "Comedy"}},
	"lifestyle":     {{"Art de vivre", "Mode", "Jardinage", "Déco", "Bien-être", "Vélo"}, {"Lifestyle", "Fashion", "Gardening", "Home", "Wellness"}},
	"technology":    {{"Tech", "Numérique", "Logiciels libres", "Sécurité informatique", "Développeurs"}, {"Tech", "Gadgets", "Open Source", "AI Weekly", "Developers"}},
	"science":       {{"Sciences", "Astronomie", "Découvertes", "Climat", "Biologie"}, {"Science", "Space", "Research", "Climate", "Physics"}},
	"health":        {{"Santé", "Hôpital", "Pharmacie de garde", "Médecine", "Prévention"}, {"Health", "Hospital", "Fitness", "Medicine", "Care"}},
	"education":     {{"Éducation", "École", "Lycée", "Université", "Collège", "Bibliothèque"}, {"Education", "School", "University", "Library", "Learning"}},
	"travel":        {{"Voyage", "Tourisme", "Randonnée", "Escapades", "Office de tourisme"}, {"Travel", "Tourism", "Hiking", "Getaways", "Visit"}},
	"music":         {{"Musique", "Concerts", "Radio", "Chorale", "Jazz", "Fanfare"}, {"Music", "Concerts", "Radio", "Jazz", "Indie"}},
	"government":    {{"Mairie de", "Préfecture", "Conseil régional", "Ville de", "Département"}, {"City of", "Council", "County", "Public Notices", "Town Hall"}},
	"organizations": {{"Association", "Club", "Syndicat", "Comité des fêtes", "Amicale", "Bénévoles"}, {"Association", "Club", "Community", "Volunteers", "Foundation"}},
	"people":        {{"Le carnet de", "Chroniques", "Les humeurs de", "Journal de bord"}, {"Notes", "Diary", "Thoughts", "Letters"}},
}

var (
	frTails = []string{"", "", "", " Express", " Info", " Direct", " & Co", " du Jour", " Pratique", " 24h/24", " Officiel", " Plus"}
	enTails = []string{"", "", "", " Live", " Now", " Today", " Weekly", " Insider", " Official", " Plus"}
	frDescs = []string{"Les dernières %s pour %s et ses environs.", "Toute l'actualité %s de %s, chaque jour.",
		"%s à %s : alertes, conseils et nouvelles en temps réel.", "Le meilleur de %s, à %s et au-delà.",
		"Suivez %s près de chez vous (%s)."}
	enDescs = []string{"The latest %s for %s and around.", "Everything %s in %s, every day.",
		"%s in %s: alerts, tips and news as they happen.", "The best of %s, from %s and beyond."}
)

// channelGen makes reproducible, varied channels.
type channelGen struct {
	rnd   *rand.Rand
	zipf  *rand.Zipf
	i, n  int
	start time.Time
	step  time.Duration
}

func newChannelGen(seed uint64, n int) *channelGen {
	rnd := rand.New(rand.NewPCG(seed, 0x5eed))
	now := time.Now().UTC()
	span := 3 * 365 * 24 * time.Hour
	return &channelGen{rnd: rnd, zipf: rand.NewZipf(rnd, 1.3, 3, 5_000_000), n: n,
		start: now.Add(-span), step: span / time.Duration(n)}
}

func (g *channelGen) pick(s []string) string { return s[g.rnd.IntN(len(s))] }

func (g *channelGen) next() seedChannel {
	g.i++
	cat := herald.Categories[g.rnd.IntN(len(herald.Categories))].ID
	// 55% French-speaking, 35% English, 10% other languages.
	var pl place
	var fr bool
	switch r := g.rnd.Float64(); {
	case r < 0.45:
		pl, fr = place{g.pick(frPlaces), "FR", "fr"}, true
	case r < 0.55:
		pl, fr = otherFr[g.rnd.IntN(len(otherFr))], true
	case r < 0.90:
		pl = enPlaces[g.rnd.IntN(len(enPlaces))]
	default:
		pl = others[g.rnd.IntN(len(others))]
	}
	words := topics[cat][1]
	tails, descs := enTails, enDescs
	if fr {
		words, tails, descs = topics[cat][0], frTails, frDescs
	}
	topic := g.pick(words)
	var name string
	switch {
	case strings.HasSuffix(topic, " de"), strings.HasSuffix(topic, " of"):
		name = topic + " " + pl.name
	case g.rnd.IntN(3) == 0:
		name = pl.name + " " + topic
	default:
		name = topic + " " + pl.name
	}
	name += g.pick(tails)
	if g.rnd.IntN(8) == 0 {
		name += " " + strconv.Itoa(1+g.rnd.IntN(99))
	}
	desc := fmt.Sprintf(g.pick(descs), strings.ToLower(g.pick(words)), pl.name)
	ch := herald.Channel{
		Name: name, Description: desc, Category: cat, Country: pl.country, Language: pl.lang,
		Listed: true, Reactions: herald.ReactionsAny,
		FollowerCount: int64(g.zipf.Uint64()) + int64(g.rnd.IntN(3)) - 1,
		CreatedAt:     g.start.Add(time.Duration(g.i) * g.step),
	}
	if ch.FollowerCount < 0 {
		ch.FollowerCount = 0
	}
	if g.rnd.IntN(4) == 0 { // a quarter have a handle; the index makes it unique
		h := strings.ReplaceAll(fold.String(name), " ", "_")
		suffix := "_" + strconv.FormatInt(int64(g.i), 36)
		if len(h) > herald.HandleMaxLen-len(suffix) {
			h = strings.TrimRight(h[:herald.HandleMaxLen-len(suffix)], "_")
		}
		ch.Handle = h + suffix
		if herald.ValidateHandle(ch.Handle) != nil {
			ch.Handle = ""
		}
	}
	// About 1 in 12 channels posted this week, a few of them a lot.
	week := 0
	if g.rnd.IntN(12) == 0 {
		week = 1 + int(math.Floor(math.Exp(g.rnd.Float64()*5)))
	}
	return seedChannel{Channel: ch, UpdatesThisWeek: week}
}
