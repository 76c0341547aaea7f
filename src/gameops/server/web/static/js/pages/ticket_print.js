// The code travels in the address's #fragment, which browsers never send to the server: it
// reaches no server log. Only the printer sees it; the address is cleaned once it is read.
const data = new URLSearchParams(location.hash.slice(1));
document.getElementById("code").textContent = data.get("code") || "—";
if (data.has("value")) {
  // An amount ticket: its value, spent at the PC's rate (formatted by the dashboard).
  document.getElementById("what").textContent = "Value";
  document.getElementById("minutes").textContent = data.get("value");
} else {
  document.getElementById("minutes").textContent = `${data.get("minutes")} min`;
}
const expires = data.get("expires");
if (expires) document.getElementById("expires").textContent = new Date(expires).toLocaleDateString();
history.replaceState(null, "", location.pathname);
if (!data.has("noprint")) addEventListener("load", () => print());
