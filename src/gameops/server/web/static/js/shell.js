// What every staff page shares: the login check, who is logged in, the nav, the feed badge,
// the user's own settings (language, password).

import { api, isLoggedIn, login, logout, me } from "./api.js";
import { openDialog } from "./dialogs.js";
import * as feed from "./feed.js";
import { language, rememberLanguage, t, tEnum } from "./i18n.js";

/** Returns the logged-in user; redirects to the login page when there is none. */
export async function boot() {
  if (!isLoggedIn()) {
    logout();
    return new Promise(() => {}); // the page is going away
  }
  const user = await me();
  const wanted = user.language || document.body.dataset.venueLanguage || "en";
  rememberLanguage(user.language || "");
  if (wanted !== language && sessionStorage.getItem("gameops.relang") !== wanted) {
    sessionStorage.setItem("gameops.relang", wanted); // once: never a reload loop
    location.reload(); // the server writes the page in the user's language
    return new Promise(() => {});
  }
  sessionStorage.removeItem("gameops.relang");
  const isAdmin = user.role === "ADMIN";
  document.body.dataset.role = user.role;
  for (const node of document.querySelectorAll("[data-admin-only]")) node.hidden = !isAdmin;
  const whoami = document.getElementById("whoami");
  whoami.textContent = `${user.full_name || user.username} · ${tEnum("role", user.role)}`;
  whoami.title = t("me.title");
  whoami.addEventListener("click", () => mySettings(user));
  document.getElementById("logout").addEventListener("click", () => logout());
  const badge = document.getElementById("feed-status");
  feed.on("status", (state) => {
    badge.dataset.state = state;
    badge.textContent = t(`feed.${state}`);
  });
  feed.start();
  return { user, isAdmin };
}

/** The user's own settings: their language, their password (with the current one). */
function mySettings(user) {
  const dialog = document.getElementById("me-dialog");
  const form = dialog.querySelector("form");
  form.reset();
  form.elements.language.value = user.language ?? "";
  openDialog(dialog, async () => {
    const chosen = form.elements.language.value || null;
    if (form.elements.new_password.value) {
      const body = { current_password: form.elements.current_password.value, new_password: form.elements.new_password.value };
      await api("POST", "/users/me/password", { body });
      // The change ends every login of this user, this one too: log in again with it.
      await login(user.username, body.new_password);
    }
    if (chosen !== (user.language ?? null)) {
      await api("PATCH", "/users/me", { body: { language: chosen } });
      rememberLanguage(chosen ?? "");
      return () => location.reload();
    }
    return null;
  });
}
