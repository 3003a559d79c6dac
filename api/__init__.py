"""Anju (安居): the platform of a smart safe residential community."""
