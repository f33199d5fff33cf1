"""The CP-SAT model's constraints, one module per topic; each ``add_*(pm)`` adds its topic's
constraints to a :class:`~dlrig.optimize.planmodel.PlanModel`.

Every constraint sits under ``if pm.on(group)`` (or ``pm.avoid(slug)`` for a warning the request
holds), named after the checker rule it encodes, so a group can be relaxed to find the binding
constraints; the rule's ``planner=`` declaration names these groups (tests/test_optimize_rules.py).
"""
