//! The timeline's one font, embedded: no system font lookup, so the same run
//! draws the same pixels on every machine. DejaVu Sans; licence in
//! `assets/fonts/LICENSE`.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use base64::Engine;

use plotters::style::{register_font, FontStyle};

/// The family the timeline draws with. In the SVG it is also the CSS
/// `font-family`, so a viewer with DejaVu Sans shows the measured layout and
/// any other falls back to its sans-serif.
pub const FAMILY: &str = "DejaVu Sans, sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The name the SVG's `@font-face` gives the embedded font: the first
/// family of [`FAMILY`], so every `<text>` of the SVG draws with it.
const FACE: &str = "DejaVu Sans";

/// `svg` carrying its own font: an `@font-face` with the subset of DejaVu
/// Sans its characters need, as a `data:` URL, right after the `<svg>`
/// tag. A viewer then draws the measured layout whatever fonts it has.
/// Unchanged if the font cannot be subset (it always can: it is ours).
pub fn embed_in_svg(svg: &str) -> String {
    let chars: BTreeSet<char> = svg.chars().filter(|c| !c.is_control()).collect();
    let (Some(font), Some(open_end)) = (
        super::font_subset::subset(DEJAVU_SANS, &chars),
        svg.find("<svg")
            .and_then(|i| svg[i..].find('>').map(|j| i + j + 1)),
    ) else {
        return svg.to_string();
    };
    let data = base64::engine::general_purpose::STANDARD.encode(font);
    let mut out = String::with_capacity(svg.len() + data.len() + 160);
    out.push_str(&svg[..open_end]);
    out.push_str("\n<defs><style>@font-face{font-family:\"");
    out.push_str(FACE);
    out.push_str("\";src:url(data:font/ttf;base64,");
    out.push_str(&data);
    out.push_str(") format(\"truetype\")}</style></defs>");
    out.push_str(&svg[open_end..]);
    out
}

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
