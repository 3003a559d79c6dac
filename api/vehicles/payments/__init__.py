"""Temporary parking and payment (VEH-05) and unplated vehicles (VEH-16).

`fees.py` prices a stay (pure), `provider.py` is the protocol a payment provider implements and
`simulated.py` the one for the demo and the tests, `orders.py` makes, settles and waives the
orders at the exit lanes, `tickets.py` serves the lanes' public QR pages (unplated cars),
`routes.py` the HTTP side. docs/vehicles.md, *Temporary parking and payment*.
"""
