"""Durable, database-backed background jobs. (Skeleton.)"""
