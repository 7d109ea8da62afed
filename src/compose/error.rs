//! The compose layer's errors: a clip that cannot be read while drawing, a conversion that
//! fails.

/// Drawing a frame failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComposeError {
    /// A video clip could not be read while composing.
    #[error("{path}: {message}")]
    Clip {
        /// Spec path of the layer or background.
        path: String,
        /// What went wrong (names the file).
        message: String,
    },
    /// Colour conversion failed.
    #[error("colour conversion failed: {0}")]
    Convert(String),
    /// A label of the contact sheet could not be laid out.
    #[error("contact sheet label {label:?}: {message}")]
    Label {
        /// The label.
        label: String,
        /// Why.
        message: String,
    },
}
