// The reaction picker's choices. The server decides what is allowed: with
// the "default" setting only its six are offered; with "any" a wider set and
// a free field for any single emoji.
export const defaultReactions = ['👍', '❤️', '😂', '😮', '😢', '🙏'];
export const moreReactions = ['🔥', '🎉', '👏', '😍', '🤔', '👀', '💯', '✅', '❌', '😡', '🥳', '🙌',
  '☀️', '🌧️', '❄️', '⚡', '🚗', '🚧', '⚽', '🍽️', '📣', '💡', '🤝', '👎'];
