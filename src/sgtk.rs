//! Toolkit (tk-core) credential formats. Placeholder: being written.
