"""Public HTTP service: demo page, widget relay, (later) staff console and integration API."""
