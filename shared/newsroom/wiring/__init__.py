"""Builds what each Lambda handler needs: AWS clients, stores and the stage functions, from the
configuration `template.yaml` sets. The handlers in functions/ import from here and the stages.

May import: every package.
"""
