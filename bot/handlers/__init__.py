"""Telegram update handlers, one concept per module; ``bot.app`` registers them."""
