"""The plan catalog: the campaign's written plan as validated data (YAML → typed models)."""

from plan.schema import Plan

__all__ = ["Plan"]
