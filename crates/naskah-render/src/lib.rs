//! Rendering: the in-process Typst renderer and the letter templates it renders. It
//! takes plain values (a letterhead, checked fields, the reserved slots) and knows no
//! department, letter or official.

/// Letter templates: manifests, the data templates receive, reserved slots.
pub mod letters;
/// The in-process Typst renderer: templates + JSON data → PDF or PNG, embedded fonts.
pub mod rendering;

pub(crate) use naskah_base::{text, validation};
