// The small POS: tap products into a sale, sell for cash (walk-in) or on a customer's
// balance; admins add products and stock. Each sale gets its receipt.

import { api, clearError, oneAction, showError } from "../api.js";
import { el, money, toMinorUnits } from "../format.js";
import { t } from "../i18n.js";
import { customerPicker } from "../picker.js";
import { showPrintable } from "../printing.js";
import { boot } from "../shell.js";

const error = document.getElementById("shop-error");
const saleForm = document.getElementById("sale-form");
const saleError = document.getElementById("sale-error");
const cart = new Map(); // product id -> quantity
let sale = oneAction(); // a double click or a retry is the same sale
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
        el("span", { class: "muted small" }, t("shop.in_stock", { count: product.stock })),
      );
      button.onclick = () => {
        sale = oneAction(); // another cart: another sale
        cart.set(product.id, (cart.get(product.id) ?? 0) + 1);
        renderProducts();
        renderCart();
      };
      return button;
    }),
  );
  if (!products.length) grid.append(el("p", { class: "muted" }, t("shop.no_products")));
}

function renderManage() {
  const body = document.querySelector("#products-table tbody");
  body.replaceChildren(
    ...products.map((product) => {
      const add = el("input", { type: "number", min: 1, step: 1, value: 10, "aria-label": t("shop.stock_to_add", { name: product.name }) });
      const button = el("button", { type: "button" }, t("shop.add"));
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
      const remove = el("button", { type: "button", class: "ghost", "aria-label": t("shop.remove", { name: product?.name }) }, "✕");
      remove.onclick = () => {
        sale = oneAction();
        cart.delete(id);
        renderProducts();
        renderCart();
      };
      return el("tr", {}, el("td", {}, product?.name ?? "?"), el("td", {}, String(quantity)), el("td", {}, money(amount)), el("td", {}, remove));
    }),
  );
  if (!cart.size) body.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, t("shop.tap"))));
  document.querySelector('[data-field="total"]').textContent = pricesIncludeTax ? money(total) : t("shop.plus_tax", { amount: money(total) });
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
    const sold = await sale.run((key) => api("POST", "/shop/sales", { body, idempotencyKey: key }));
    sale = oneAction(); // the next sale is a new one
    cart.clear();
    clearError(saleError);
    const [receipt] = (await api("GET", "/receipts", { params: { payment_id: sold.payment.id } })).items;
    const print = el("button", { type: "button" }, t("shop.print_receipt"));
    print.onclick = () => showPrintable(`/receipts/${receipt.id}/print`, t("till.receipt_title", { number: receipt.number }), { paper: "80mm" });
    const text = t("shop.sold", { amount: money(sold.total), number: receipt.number });
    document.getElementById("sale-result").replaceChildren(el("p", {}, `${text} `), print);
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
