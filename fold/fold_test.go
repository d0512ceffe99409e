package fold

import (
	"reflect"
	"testing"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"Météo":                  "meteo",
		"METEO":                  "meteo",
		"Île-de-France":          "ile de france",
		"Trafic Île-de-France":   "trafic ile de france",
		"  Cœur   d'Alène!! ":    "coeur d alene",
		"Straße":                 "strasse",
		"Ça va? Très bien.":      "ca va tres bien",
		"météo_lyon":             "meteo lyon",
		"\"NEAR(a b)\" col:x *":  "near a b col x",
		"1,5 °C":                 "1 5 c",
		"ﬁlm":                    "film",
		"Ｍétéo":                  "meteo",
		"Москва":                 "москва",
		"東京 ニュース":                "東京 ニュース",
		"a\xffb":                 "a b",
		"":                       "",
		"!!!":                    "",
		"DROP TABLE channels;--": "drop table channels",
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokens(t *testing.T) {
	got := Tokens("Cuisine: l'été à Nice")
	want := []string{"cuisine", "l", "ete", "a", "nice"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Tokens = %q, want %q", got, want)
	}
}

func TestIdempotent(t *testing.T) {
	for _, s := range []string{"Météo Lyon", "Île-de-France", "Œuvre", "ﬁ", "Ǆ"} {
		once := String(s)
		if twice := String(once); twice != once {
			t.Errorf("String(String(%q)) = %q, String = %q", s, twice, once)
		}
	}
}

func BenchmarkString(b *testing.B) {
	for b.Loop() {
		String("Trafic Île-de-France : l'état des routes en temps réel, bouchons et travaux")
	}
}
