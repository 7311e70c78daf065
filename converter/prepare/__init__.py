"""Model preparation: graph surgery the user asks for at conversion, applied after the frontend and before the passes."""
