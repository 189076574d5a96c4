//! Admin pages under /admin.
