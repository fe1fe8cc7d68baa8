"""Generated from proto/ by tools/genproto.py (make proto). Do not edit."""
