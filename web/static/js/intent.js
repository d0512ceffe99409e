// followIntent remembers, in this tab only, that the person pressed Follow
// (or "sign up to follow") on one of this site's pages, so that the page
// they come back to after signing up or in may finish the follow. Another
// site can link to ?follow=1 but cannot set this: loading a page never
// follows by itself.
const key = 'herald.followIntent';

export const followIntent = {
  /** set records the page (its path) the person asked to follow from. */
  set(path) {
    try { sessionStorage.setItem(key, path); } catch { /* storage off: they press Follow again */ }
  },
  /** take returns the recorded path, once, and forgets it. */
  take() {
    try {
      const v = sessionStorage.getItem(key);
      sessionStorage.removeItem(key);
      return v;
    } catch { return null; }
  },
};
