"""Visitor passes: booking, walk-ins at the desk, the shared pass page, arrivals."""
