"""Kakao and GitHub login: ``OAuthProvider`` on authlib's ``AsyncOAuth2Client`` (httpx2)."""

from adapters.oauth.client import OAuthClientConfig
from adapters.oauth.github import GitHubOAuthProvider
from adapters.oauth.kakao import KakaoOAuthProvider

__all__ = ["GitHubOAuthProvider", "KakaoOAuthProvider", "OAuthClientConfig"]
