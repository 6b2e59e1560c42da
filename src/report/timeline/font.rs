//! The timeline's one font, embedded: no system font lookup, so the same run
//! draws the same pixels on every machine. DejaVu Sans; licence in
//! `assets/fonts/LICENSE`.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

/// The family the timeline draws with. In the SVG it is also the CSS
/// `font-family`, so a viewer with DejaVu Sans shows the measured layout and
/// any other falls back to its sans-serif.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters, once per process.
pub fn ensure_registered() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok {
        Ok(())
    } else {
        Err("the embedded DejaVu Sans font could not be loaded".to_string())
    }
}
