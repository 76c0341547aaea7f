// The small POS: tap products into a sale, sell for cash (walk-in) or on a customer's
// balance; admins add products and stock. Each sale gets its receipt.

import { api, clearError, showError } from "../api.js";
import { el, money, toMinorUnits } from "../format.js";
import { customerPicker } from "../picker.js";
import { showPrintable } from "../printing.js";
import { boot } from "../shell.js";

const error = document.getElementById("shop-error");
const saleForm = document.getElementById("sale-form");
const saleError = document.getElementById("sale-error");
const cart = new Map(); // product id -> quantity
let products = [];
let pricesIncludeTax = true;

const byId = (id) => products.find((p) => p.id === id);

async function load() {
  try {
    products = await api("GET", "/shop/products", { params: { include_inactive: false } });
    renderProducts();
    renderManage();
    renderCart();
    clearError(error);
  } catch (err) {
    showError(error, err);
  }
}

function renderProducts() {
  const grid = document.getElementById("products");
  grid.replaceChildren(
    ...products.map((product) => {
      const button = el(
        "button",
        { type: "button", class: "product", "data-product": product.name, disabled: product.stock <= (cart.get(product.id) ?? 0) },
        el("strong", {}, product.name),
        el("span", {}, money(product.price)),
        el("span", { class: "muted small" }, `${product.stock} in stock`),
      );
      button.onclick = () => {
        cart.set(product.id, (cart.get(product.id) ?? 0) + 1);
        renderProducts();
        renderCart();
      };
      return button;
    }),
  );
  if (!products.length) grid.append(el("p", { class: "muted" }, "No products yet. An admin adds them below."));
}

function renderManage() {
  const body = document.querySelector("#products-table tbody");
  body.replaceChildren(
    ...products.map((product) => {
      const add = el("input", { type: "number", min: 1, step: 1, value: 10, "aria-label": `Stock to add to ${product.name}` });
      const button = el("button", { type: "button" }, "Add");
      button.onclick = async () => {
        try {
          await api("PATCH", `/shop/products/${product.id}`, { body: { stock: product.stock + Number.parseInt(add.value, 10) } });
          await load();
        } catch (err) {
          showError(document.getElementById("product-error"), err);
        }
      };
      return el("tr", {}, el("td", {}, product.name), el("td", {}, money(product.price)), el("td", {}, `${product.tax_rate_bp / 100} %`), el("td", {}, String(product.stock)), el("td", {}, add, " ", button));
    }),
  );
}

function renderCart() {
  const body = document.querySelector("#cart-table tbody");
  let total = 0;
  body.replaceChildren(
    ...[...cart.entries()].map(([id, quantity]) => {
      const product = byId(id);
      const amount = product ? product.price * quantity : 0; // gross prices; net ones add tax at the sale
      total += amount;
      const remove = el("button", { type: "button", class: "ghost", "aria-label": `Remove ${product?.name}` }, "✕");
      remove.onclick = () => {
        cart.delete(id);
        renderProducts();
        renderCart();
      };
      return el("tr", {}, el("td", {}, product?.name ?? "?"), el("td", {}, String(quantity)), el("td", {}, money(amount)), el("td", {}, remove));
    }),
  );
  if (!cart.size) body.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, "Tap products to add them.")));
  document.querySelector('[data-field="total"]').textContent = money(total) + (pricesIncludeTax ? "" : " + tax");
  document.querySelector('[data-field="sell"]').disabled = !cart.size;
}

const method = saleForm.elements.payment_method;
const customer = customerPicker(saleForm, (picked) => {
  method.querySelector('[value="BALANCE"]').disabled = !picked;
  method.value = picked && picked.balance > 0 ? "BALANCE" : "CASH";
});

saleForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const sell = document.querySelector('[data-field="sell"]');
  sell.disabled = true;
  try {
    const body = {
      items: [...cart.entries()].map(([product_id, quantity]) => ({ product_id, quantity })),
      payment_method: method.value,
      user_id: customer()?.id ?? null,
    };
    const sale = await api("POST", "/shop/sales", { body });
    cart.clear();
    clearError(saleError);
    const [receipt] = (await api("GET", "/receipts", { params: { payment_id: sale.payment.id } })).items;
    const print = el("button", { type: "button" }, "Print receipt");
    print.onclick = () => showPrintable(`/receipts/${receipt.id}/print`, `Receipt ${receipt.number}`, { paper: "80mm" });
    document.getElementById("sale-result").replaceChildren(el("p", {}, `Sold: ${money(sale.total)} · receipt no. ${receipt.number} `), print);
    document.getElementById("sale-result").hidden = false;
    await load();
  } catch (err) {
    showError(saleError, err);
    sell.disabled = false;
  }
});

document.getElementById("product-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const productError = document.getElementById("product-error");
  try {
    const tax = form.elements.tax.value;
    await api("POST", "/shop/products", {
      body: {
        name: form.elements.name.value.trim(),
        category: form.elements.category.value.trim(),
        price: toMinorUnits(form.elements.price.value),
        tax_rate_bp: tax === "" ? null : Math.round(Number.parseFloat(tax) * 100),
        stock: Number.parseInt(form.elements.stock.value || "0", 10),
      },
    });
    form.reset();
    clearError(productError);
    await load();
  } catch (err) {
    showError(productError, err);
  }
});

await boot();
pricesIncludeTax = (await api("GET", "/shifts/till")).prices_include_tax ?? true;
await load();
