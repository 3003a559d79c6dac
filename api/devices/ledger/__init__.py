"""The equipment ledger (OPS-13/14/15): every device as an asset, assets added by hand, their
lifecycle and history, spare parts and their stock, and QR label sheets. docs/devices.md."""
