//! What shoppers bought. Shopify's orders are the truth: read in bulk at install and kept
//! current by order webhooks (`shopify::orders`), newest version of each order winning. A
//! checkout event is a purchase only where no order can be (a headless frontend that has
//! no Shopify orders); a web pixel's checkout, which names its order, only says which
//! browser placed it. `merge` turns both into the purchases every strategy learns from.

mod merge;
mod order;

pub use merge::{histories, merge, purchases_as_checkouts, Purchase};
pub use order::{
    FinancialStatus, Order, OrderBook, OrderLine, OrderSource, Refund, RefundLine, StandingLine,
};

/// The custom attribute the theme embed puts on the cart (so on the order): the browser's
/// client id. A leading underscore hides it from the shopper at checkout.
pub const CLIENT_ATTRIBUTE: &str = "_kindred_client_id";
