"""Thin Dagster assets: each opens a resource, calls one pure function, writes, reports."""
