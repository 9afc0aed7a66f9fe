//! What every page of the bundle shares: the templates, the style and the
//! one script with the Content-Security-Policy that allows exactly them,
//! and the folder the files are written into, remembered for the manifest.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use base64::Engine as _;
use minijinja::{Environment, Value, context};
use sha2::{Digest, Sha256};

use super::ReportInput;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
const STYLE: &str = include_str!("templates/style.css");
const SCRIPT: &str = include_str!("templates/script.js");

/// The templates, each registered under its file name. A section of the
/// overview is one template under `sections/` (see `overview::SECTIONS`).
const TEMPLATES: [(&str, &str); 8] = [
    ("base.html", include_str!("templates/base.html")),
    ("table.html", include_str!("templates/table.html")),
    ("index.html", include_str!("templates/index.html")),
    ("policy.html", include_str!("templates/policy.html")),
    ("devices.html", include_str!("templates/devices.html")),
    ("device.html", include_str!("templates/device.html")),
    (
        "device_index.html",
        include_str!("templates/device_index.html"),
    ),
    ("lookup.html", include_str!("templates/lookup.html")),
];

/// Writes files into the bundle folder and remembers them for the manifest.
#[derive(Debug)]
pub struct Bundle {
    pub out: PathBuf,
    written: Vec<PathBuf>,
}

impl Bundle {
    pub fn new(out: &Path) -> Bundle {
        Bundle {
            out: out.to_path_buf(),
            written: Vec::new(),
        }
    }

    pub fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<()> {
        let path = self.out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        self.written.push(path);
        Ok(())
    }

    /// Files written by someone else into the bundle.
    pub fn add(&mut self, files: impl IntoIterator<Item = PathBuf>) {
        self.written.extend(files);
    }

    pub fn written(&self) -> &[PathBuf] {
        &self.written
    }
}

/// A page's `<style>` and its hash for the CSP.
#[derive(Debug)]
struct Style {
    text: String,
    hash: String,
}

impl Style {
    fn new(text: String) -> Style {
        let hash = csp_hash(&text);
        Style { text, hash }
    }
}

fn csp_hash(text: &str) -> String {
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The templates and what every page is rendered with.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    common: Value,
    plain: Style,
    /// With the bundled font, for pages with charts (their SVG text).
    with_font: Style,
}

impl Templates {
    /// `sections`: the overview's section templates, by name.
    pub fn new(
        input: &ReportInput,
        sections: &[(&'static str, &'static str)],
    ) -> Result<Templates> {
        let mut env = Environment::new();
        // Auto-escaping is on for `.html` templates: every value from the
        // data is escaped unless a template says `| safe` (only our SVG,
        // style, script and the lookup data, escaped for its place).
        for (name, text) in TEMPLATES.iter().chain(sections) {
            env.add_template(name, text)?;
        }
        let font = base64::engine::general_purpose::STANDARD.encode(FONT);
        let font_face = format!(
            "@font-face {{ font-family: \"DejaVu Sans\"; src: url(data:font/ttf;base64,{font}) format(\"truetype\"); }}\n"
        );
        Ok(Templates {
            env,
            common: context! {
                as_of => input.as_of.to_string(),
                as_of_end => format!("{}T00:00:00Z", input.as_of.succ_opt().unwrap_or(input.as_of)),
                stale_days => input.stale_days,
                version => env!("CARGO_PKG_VERSION"),
                script => SCRIPT,
                script_hash => csp_hash(SCRIPT),
            },
            plain: Style::new(STYLE.to_owned()),
            with_font: Style::new(format!("{font_face}{STYLE}")),
        })
    }

    /// A page at `root` (`""` for the bundle's top, `"../"` one below).
    pub fn page(&self, template: &str, root: &str, page: Value) -> Result<String> {
        self.render(template, root, page, &self.plain)
    }

    /// A page with charts, which carries the bundled font for their text.
    pub fn page_with_charts(&self, template: &str, root: &str, page: Value) -> Result<String> {
        self.render(template, root, page, &self.with_font)
    }

    fn render(&self, template: &str, root: &str, page: Value, style: &Style) -> Result<String> {
        let ctx = minijinja::value::merge_maps([
            context! {
                root => root,
                style => style.text,
                style_hash => style.hash,
            },
            page,
            self.common.clone(),
        ]);
        self.env
            .get_template(template)?
            .render(ctx)
            .with_context(|| format!("cannot render `{template}`"))
    }

    /// A piece of a page (one device of a device page), rendered alone.
    pub fn fragment(&self, template: &str, root: &str, page: Value) -> Result<String> {
        let ctx = minijinja::value::merge_maps([context! { root => root }, page]);
        self.env
            .get_template(template)?
            .render(ctx)
            .with_context(|| format!("cannot render `{template}`"))
    }
}

/// A name that is safe as a file name or an HTML id, and stable.
pub fn slug(prefix: &str, id: &str) -> String {
    let digest = format!("{:x}", Sha256::digest(id.as_bytes()));
    format!("{prefix}-{}", &digest[..16])
}

/// JSON for a `<script type="application/json">` block: `<`, `>` and `&`
/// written as JSON escapes, so that no text of the data can end the block
/// or start markup; `JSON.parse` reads the same values back.
pub fn json_for_html(value: &impl serde::Serialize) -> Result<String> {
    Ok(escape_for_html(&serde_json::to_string(value)?))
}

/// `json_for_html` for JSON text already written (the three characters
/// only ever appear inside its strings).
pub fn escape_for_html(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_end_its_script_block() {
        let hostile = "</script><script>alert(1)</script>&amp;";
        let json = json_for_html(&[hostile]).unwrap();
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [hostile]);
    }
}
