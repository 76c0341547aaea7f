// What every staff page shares: the login check, who is logged in, the nav, the feed badge.

import { isLoggedIn, logout, me } from "./api.js";
import * as feed from "./feed.js";

const FEED_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };

/** Returns the logged-in user; redirects to the login page when there is none. */
export async function boot() {
  if (!isLoggedIn()) {
    logout();
    return new Promise(() => {}); // the page is going away
  }
  const user = await me();
  const isAdmin = user.role === "ADMIN";
  document.body.dataset.role = user.role;
  for (const node of document.querySelectorAll("[data-admin-only]")) node.hidden = !isAdmin;
  document.getElementById("whoami").textContent = `${user.full_name || user.username} · ${user.role.toLowerCase()}`;
  document.getElementById("logout").addEventListener("click", () => logout());
  const badge = document.getElementById("feed-status");
  feed.on("status", (state) => {
    badge.dataset.state = state;
    badge.textContent = FEED_TEXT[state];
  });
  feed.start();
  return { user, isAdmin };
}
