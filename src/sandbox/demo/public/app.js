// The demo storefront's page script: a cart, the loyalty widget, and a checkout through the demo backend.
// No framework and nothing inline (the page's CSP allows scripts and styles from files only).

const PRICE = 1290; // cents
/** One point takes one cent off. */
const POINT_CENTS = 1;
const money = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' });

const widget = document.getElementById('loyalty');
const $ = (id) => document.getElementById(id);
const cart = { id: newCartId(), qty: 0, hold: null };

function newCartId() {
  return `cart-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function render() {
  const subtotal = cart.qty * PRICE;
  const discount = cart.hold ? Math.min(subtotal, cart.hold.points * POINT_CENTS) : 0;
  $('cart-lines').textContent =
    cart.qty === 0 ? 'Your cart is empty.' : `${cart.qty} × House blend coffee beans, 500 g`;
  $('subtotal').textContent = money.format(subtotal / 100);
  $('discount').textContent = discount ? `−${money.format(discount / 100)}` : money.format(0);
  $('total').textContent = money.format((subtotal - discount) / 100);
  widget.setAttribute('cart-id', cart.id);
  // The most points this cart can take: its subtotal.
  widget.setAttribute('cart-points', String(Math.floor(subtotal / POINT_CENTS)));
}

async function session() {
  try {
    const res = await fetch('/demo/api/session', { method: 'POST' });
    if (!res.ok) throw new Error(`session: ${res.status}`);
    const { token } = await res.json();
    widget.setAttribute('token', token);
  } catch {
    $('order').textContent = 'The demo shop could not sign you in. Is the gateway running?';
  }
}

$('add').addEventListener('click', () => {
  cart.qty += 1;
  render();
  $('order').textContent = `Added to cart (${cart.qty}).`;
});

$('lang').addEventListener('change', (e) => {
  widget.setAttribute('lang', e.target.value);
});

widget.addEventListener('loyalty:hold', (e) => {
  cart.hold = e.detail;
  render();
});
widget.addEventListener('loyalty:release', () => {
  cart.hold = null;
  render();
});
widget.addEventListener('loyalty:token-expired', () => {
  cart.hold = null;
  render();
});

$('checkout').addEventListener('click', async () => {
  if (cart.qty === 0) {
    $('order').textContent = 'Add something to the cart first.';
    return;
  }
  $('checkout').disabled = true;
  try {
    const res = await fetch('/demo/api/checkout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hold_id: cart.hold ? cart.hold.hold_id : null, cart_id: cart.id }),
    });
    const order = await res.json();
    if (!res.ok) throw new Error(order.error || `checkout: ${res.status}`);
    $('order').textContent = `Order ${order.order_id} paid: ${order.points_used} points used.`;
    document.body.dataset.order = order.order_id;
    cart.id = newCartId();
    cart.qty = 0;
    cart.hold = null;
    render();
    await session(); // a fresh token: the widget reloads and shows the new balance
  } catch (err) {
    $('order').textContent = `Checkout failed: ${err.message}`;
  } finally {
    $('checkout').disabled = false;
  }
});

render();
session();
