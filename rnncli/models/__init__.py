"""Recurrent models: the lecture's cells as reference, the fused torch path, and the task heads."""
