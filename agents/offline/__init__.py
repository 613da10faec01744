"""The offline playbook planner's parts: failure-mode catalogue, ticket facts, ranking."""
