"""Rewards: share links, attribution of sales to members' content, creators' earnings."""
