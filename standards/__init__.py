"""The 20 local standards (SC-01 … SC-20) as data, and the validator that judges records against them."""
