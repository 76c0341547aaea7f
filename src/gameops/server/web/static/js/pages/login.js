import { ApiError, api, isLoggedIn, login, showError } from "../api.js";
import { rememberLanguage, t } from "../i18n.js";

const REASONS = { expired: "login.expired" };

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const notice = document.getElementById("login-notice");

const reason = new URLSearchParams(location.search).get("reason");
if (REASONS[reason]) {
  notice.textContent = t(REASONS[reason]);
  notice.hidden = false;
} else if (isLoggedIn()) {
  location.replace("/");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    await login(form.elements.username.value.trim(), form.elements.password.value);
    const user = await api("GET", "/auth/me");
    rememberLanguage(user.language || ""); // the first page comes in the user's language
    location.assign("/");
  } catch (err) {
    if (err instanceof ApiError && err.status === 422) {
      err.message = t("login.missing");
    }
    showError(error, err);
    form.elements.password.select();
  } finally {
    button.disabled = false;
  }
});
form.querySelector('button[type="submit"]').disabled = false;
