"""SCIM 2.0 provisioning (RFC 7643, RFC 7644) at ``/scim/v2/``: Users are accounts, Groups
are departments. An integration's client-credentials token with the ``scim`` scope."""
