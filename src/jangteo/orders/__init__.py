"""Orders: carts, checkout, orders, payments, coupons and shipping."""
