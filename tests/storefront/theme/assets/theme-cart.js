/* The stand-in theme's cart, as Dawn's works: the product form adds through the cart's Ajax
   API asking for the drawer's section, the drawer re-renders from it and opens; the cart
   page's `cart-items` re-renders its section after a change. */
class CartDrawer extends HTMLElement {
  connectedCallback() {
    this.addEventListener('click', (event) => {
      if (event.target.closest('[data-close]')) this.close();
    });
  }

  open() {
    this.classList.add('is-open');
  }

  close() {
    this.classList.remove('is-open');
  }

  getSectionsToRender() {
    return [{ id: 'cart-drawer', selector: '#CartDrawer' }];
  }

  getSectionInnerHTML(html, selector = '.shopify-section') {
    return new DOMParser().parseFromString(html, 'text/html').querySelector(selector).innerHTML;
  }

  renderContents(parsedState) {
    this.classList.remove('is-empty');
    for (const section of this.getSectionsToRender()) {
      const element = section.selector ? document.querySelector(section.selector) : document.getElementById(section.id);
      element.innerHTML = this.getSectionInnerHTML(parsedState.sections[section.id], section.selector);
    }
    setTimeout(() => this.open());
  }
}
customElements.define('cart-drawer', CartDrawer);

class CartItems extends HTMLElement {
  async onCartUpdate() {
    const response = await fetch(`${window.Shopify.routes.root}cart?section_id=main-cart`);
    const html = new DOMParser().parseFromString(await response.text(), 'text/html');
    this.innerHTML = html.querySelector('cart-items').innerHTML;
  }
}
customElements.define('cart-items', CartItems);

document.addEventListener('submit', async (event) => {
  const form = event.target.closest('form.product-form');
  const drawer = document.querySelector('cart-drawer');
  if (!form || !drawer) return;
  event.preventDefault();
  const response = await fetch(`${window.Shopify.routes.root}cart/add.js`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      items: [{ id: Number(form.elements.id.value), quantity: Number(form.elements.quantity.value) || 1 }],
      sections: drawer.getSectionsToRender().map((section) => section.id),
      sections_url: window.location.pathname,
    }),
  });
  if (response.ok) drawer.renderContents(await response.json());
});
