//! Charts of the report's numbers, drawn once as SVG for the page and once as PNG for pasting
//! into documents, with the bundled font so that both look the same on every machine.

use std::sync::OnceLock;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One chart's data: what the tests compare with the query rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Devices per platform, stacked: compliant, noncompliant, no_policy, stale (counts).
    PlatformCompliance { rows: Vec<PlatformBar> },
    /// Compliance % per policy, least compliant first; None = no denominator ("n/a").
    PolicyCompliance { rows: Vec<(String, Option<f64>)> },
    /// Compliance % per day; None = no device that day (a gap in the line).
    Trend {
        points: Vec<(NaiveDate, Option<f64>)>,
    },
}

/// One platform's devices, by compliance state.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformBar {
    pub platform: String,
    pub compliant: u64,
    pub noncompliant: u64,
    pub no_policy: u64,
    pub stale: u64,
}

/// The family name the page's `@font-face` also uses, so the SVG text finds the same glyphs.
const FONT_FAMILY: &str = "DejaVu Sans";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
/// DejaVu Sans's ascent plus descent over its units per em (hhea: 1901 + 483, head: 2048).
const FONT_HEIGHT_PER_EM: f64 = 2384.0 / 2048.0;
/// plotters' SVG backend writes a text's size divided by this as its font-size.
const SVG_SIZE_PER_EM: f64 = 1.24;

const WIDTH: u32 = 760;
/// More bars than this make an unreadable chart; the page's table has every row.
const MAX_BARS: usize = 40;
/// Long policy names would squeeze the bars to nothing.
const MAX_LABEL_CHARS: usize = 40;
const BAR_PITCH: u32 = 24;
/// Part of a bar's row left empty above and below it, in rows.
const BAR_INSET: f64 = 0.18;
const MARGIN: u32 = 12;
const TITLE_BAND: u32 = 34;
const CAPTION_BAND: u32 = 20;
const LEGEND_BAND: u32 = 26;
const X_AXIS_BAND: u32 = 44;
/// Room right of the plot for the value written after a full-length bar.
const VALUE_ROOM: u32 = 60;
const LABEL_GAP: u32 = 8;
const MIN_LABEL_AREA: u32 = 48;
const MAX_LABEL_AREA: u32 = 300;
const TREND_HEIGHT: u32 = 380;
const EMPTY_HEIGHT: u32 = 150;

// Okabe–Ito: tells apart for the common colour-vision deficiencies and stays distinct in grey.
const COMPLIANT: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const NONCOMPLIANT: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const NO_POLICY: RGBColor = RGBColor(0x99, 0x99, 0x99);
const STALE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const LINE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED_INK: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);

const PLATFORM_LEGEND: [(&str, RGBColor); 4] = [
    ("compliant", COMPLIANT),
    ("noncompliant", NONCOMPLIANT),
    ("no policy", NO_POLICY),
    ("stale", STALE),
];

impl Chart {
    /// The chart's heading, in the picture and on the page.
    pub fn title(&self) -> &'static str {
        match self {
            Chart::PlatformCompliance { .. } => "Devices by platform and compliance",
            Chart::PolicyCompliance { .. } => "Compliance by policy",
            Chart::Trend { .. } => "Compliance trend",
        }
    }

    /// An SVG document (no XML prolog, starts with "<svg"), 760 px wide, as tall as its bars
    /// need.
    pub fn svg(&self) -> Result<String> {
        let plan = self.plan()?;
        let mut svg = String::new();
        // The backend writes into `svg` only when presented or dropped, so it must not outlive
        // this block.
        {
            let root =
                SVGBackend::with_string(&mut svg, (WIDTH, plan.height())).into_drawing_area();
            plan.draw(&root, Lettering::Svg)
                .and_then(|()| root.present())
                .with_context(|| self.cannot_draw())?;
        }
        Ok(svg)
    }

    /// The same chart as a PNG file's bytes (RGB), for pasting into documents.
    pub fn png(&self) -> Result<Vec<u8>> {
        let plan = self.plan()?;
        let height = plan.height();
        let mut pixels = vec![0u8; WIDTH as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, height)).into_drawing_area();
            plan.draw(&root, Lettering::Bitmap)
                .and_then(|()| root.present())
                .with_context(|| self.cannot_draw())?;
        }
        let mut png = Vec::new();
        // These files are kept in documents and bundles; the best compression halves them.
        PngEncoder::new_with_quality(&mut png, CompressionType::Best, FilterType::Adaptive)
            .write_image(&pixels, WIDTH, height, image::ColorType::Rgb8)
            .with_context(|| format!("cannot encode the chart `{}` as PNG", self.title()))?;
        Ok(png)
    }

    fn cannot_draw(&self) -> String {
        format!("cannot draw the chart `{}`", self.title())
    }

    /// Turns the rows into what is drawn, so that the height is known before the backend is
    /// made.
    fn plan(&self) -> Result<Plan> {
        ensure_font()?;
        let title = self.title();
        let plan = match self {
            Chart::PlatformCompliance { rows } if rows.is_empty() => Plan::Empty { title },
            Chart::PlatformCompliance { rows } => {
                let shown = &rows[..rows.len().min(MAX_BARS)];
                let widest = shown.iter().map(platform_total).max().unwrap_or(0);
                Plan::Bars(Bars {
                    title,
                    rows: shown.iter().map(platform_row).collect(),
                    total_rows: rows.len(),
                    // Below 10 the axis would get ticks at fractions of a device.
                    x_max: widest.max(10) as f64,
                    x_desc: "devices",
                    x_format: format_count,
                    legend: &PLATFORM_LEGEND,
                })
            }
            Chart::PolicyCompliance { rows } if rows.is_empty() => Plan::Empty { title },
            Chart::PolicyCompliance { rows } => Plan::Bars(Bars {
                title,
                rows: rows
                    .iter()
                    .take(MAX_BARS)
                    .map(|(name, value)| policy_row(name, *value))
                    .collect(),
                total_rows: rows.len(),
                x_max: 100.0,
                x_desc: "compliant (%)",
                x_format: format_percent_tick,
                legend: &[],
            }),
            Chart::Trend { points } => match trend(title, points) {
                Some(trend) => Plan::Trend(trend),
                None => Plan::Empty { title },
            },
        };
        Ok(plan)
    }
}

/// plotters keeps registered fonts in a process-wide table; registering once is enough.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED
        .get_or_init(|| register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok());
    anyhow::ensure!(registered, "cannot load the bundled font `{FONT_FAMILY}`");
    Ok(())
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

enum Plan {
    Empty { title: &'static str },
    Bars(Bars),
    Trend(Trend),
}

struct Bars {
    title: &'static str,
    /// At most `MAX_BARS`.
    rows: Vec<BarRow>,
    total_rows: usize,
    x_max: f64,
    x_desc: &'static str,
    x_format: fn(&f64) -> String,
    legend: &'static [(&'static str, RGBColor)],
}

struct BarRow {
    label: String,
    /// Drawn left to right; an empty list draws no bar.
    segments: Vec<(f64, RGBColor)>,
    /// Written just after the bar's end, or at the axis when there is no bar.
    note: String,
}

struct Trend {
    title: &'static str,
    first: NaiveDate,
    last: NaiveDate,
    /// Runs of days with a value; a day without one ends a run.
    runs: Vec<Vec<(NaiveDate, f64)>>,
}

impl Plan {
    fn height(&self) -> u32 {
        match self {
            Plan::Empty { .. } => EMPTY_HEIGHT,
            Plan::Trend(_) => TREND_HEIGHT,
            Plan::Bars(bars) => {
                bars.header_height() + bars.rows.len() as u32 * BAR_PITCH + X_AXIS_BAND + MARGIN
            }
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        lettering: Lettering,
    ) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        match self {
            Plan::Empty { title } => draw_empty(root, lettering, title),
            Plan::Bars(bars) => draw_bars(root, lettering, bars),
            Plan::Trend(trend) => draw_trend(root, lettering, trend),
        }
    }
}

impl Bars {
    fn capped(&self) -> bool {
        self.total_rows > self.rows.len()
    }

    fn header_height(&self) -> u32 {
        let caption = if self.capped() { CAPTION_BAND } else { 0 };
        let legend = if self.legend.is_empty() {
            0
        } else {
            LEGEND_BAND
        };
        TITLE_BAND + caption + legend
    }
}

fn platform_total(row: &PlatformBar) -> u64 {
    row.compliant
        .saturating_add(row.noncompliant)
        .saturating_add(row.no_policy)
        .saturating_add(row.stale)
}

fn platform_row(row: &PlatformBar) -> BarRow {
    let counts = [row.compliant, row.noncompliant, row.no_policy, row.stale];
    BarRow {
        label: bar_label(&row.platform),
        segments: counts
            .iter()
            .zip(PLATFORM_LEGEND)
            .map(|(&count, (_, colour))| (count as f64, colour))
            .collect(),
        note: format_count(&(platform_total(row) as f64)),
    }
}

fn policy_row(name: &str, value: Option<f64>) -> BarRow {
    // NaN or infinity can only come from a broken division upstream; showing it as a number
    // would mislead more than "n/a" does.
    let value = value.filter(|v| v.is_finite()).map(|v| v.clamp(0.0, 100.0));
    BarRow {
        label: bar_label(name),
        segments: value.map(|v| vec![(v, COMPLIANT)]).unwrap_or_default(),
        note: value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}%")),
    }
}

fn trend(title: &'static str, points: &[(NaiveDate, Option<f64>)]) -> Option<Trend> {
    let mut points = points.to_vec();
    // A line that goes back in time would be unreadable; the order is the calendar's.
    points.sort_by_key(|(day, _)| *day);
    let mut runs: Vec<Vec<(NaiveDate, f64)>> = Vec::new();
    let mut run = Vec::new();
    for &(day, value) in &points {
        match value.filter(|v| v.is_finite()) {
            Some(v) => run.push((day, v.clamp(0.0, 100.0))),
            None if run.is_empty() => {}
            None => runs.push(std::mem::take(&mut run)),
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    if runs.is_empty() {
        return None;
    }
    let (first, last) = (points.first()?.0, points.last()?.0);
    // A single day is an empty range to the date axis: widen it by a day either side.
    let (first, last) = if first == last {
        (
            first.pred_opt().unwrap_or(first),
            last.succ_opt().unwrap_or(last),
        )
    } else {
        (first, last)
    };
    Some(Trend {
        title,
        first,
        last,
        runs,
    })
}

/// Makes a field value safe to lay out on one line and short enough to leave room for bars.
fn bar_label(name: &str) -> String {
    let one_line: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    if trimmed.is_empty() {
        return "(blank)".to_owned();
    }
    if trimmed.chars().count() <= MAX_LABEL_CHARS {
        return trimmed.to_owned();
    }
    let mut cut: String = trimmed.chars().take(MAX_LABEL_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

fn format_count(value: &f64) -> String {
    format!("{value:.0}")
}

fn format_percent_tick(value: &f64) -> String {
    format!("{value:.0}%")
}

/// How a text size, given as the em in CSS pixels like the page's, reaches a backend.
#[derive(Clone, Copy)]
enum Lettering {
    /// The browser takes the SVG's font-size as the em.
    Svg,
    /// plotters sizes ab_glyph text by the font's height (ascent plus descent), which would
    /// draw the PNG's text smaller than the SVG's. Even sizes also keep glyphs on one baseline:
    /// plotters truncates half the size to whole pixels, glyph by glyph.
    Bitmap,
}

impl Lettering {
    /// Measuring with the bitmap's sizes gives the widths a browser lays out for the SVG too.
    const MEASURE: Lettering = Lettering::Bitmap;

    fn text(self, em: f64, colour: &RGBColor) -> TextStyle<'static> {
        let size = match self {
            Lettering::Svg => em * SVG_SIZE_PER_EM,
            Lettering::Bitmap => (em * FONT_HEIGHT_PER_EM / 2.0).round() * 2.0,
        };
        (FONT_FAMILY, size).into_font().color(colour)
    }
}

fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lettering: Lettering,
    title: &str,
) -> DrawResult<DB> {
    root.draw(&Text::new(
        title,
        (MARGIN as i32, 10),
        lettering
            .text(17.0, &INK)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))
}

fn draw_empty<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lettering: Lettering,
    title: &str,
) -> DrawResult<DB> {
    draw_title(root, lettering, title)?;
    let middle = (WIDTH as i32 / 2, (TITLE_BAND + EMPTY_HEIGHT) as i32 / 2);
    root.draw(&Text::new(
        "no data",
        middle,
        lettering
            .text(16.0, &MUTED_INK)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lettering: Lettering,
    bars: &Bars,
) -> DrawResult<DB> {
    draw_title(root, lettering, bars.title)?;
    let mut y = TITLE_BAND as i32;
    if bars.capped() {
        let caption = format!("first {} of {} shown", bars.rows.len(), bars.total_rows);
        root.draw(&Text::new(
            caption,
            (MARGIN as i32, y),
            lettering
                .text(12.0, &MUTED_INK)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
        y += CAPTION_BAND as i32;
    }
    if !bars.legend.is_empty() {
        draw_legend(root, lettering, bars.legend, y)?;
    }

    let label_style = lettering.text(12.0, &INK);
    let measured = Lettering::MEASURE.text(12.0, &INK);
    let mut widest_label = 0;
    for row in &bars.rows {
        widest_label = widest_label.max(root.estimate_text_size(&row.label, &measured)?.0);
    }
    let label_area = (widest_label + LABEL_GAP).clamp(MIN_LABEL_AREA, MAX_LABEL_AREA);

    let (_, body) = root.split_vertically(bars.header_height());
    let rows = bars.rows.len() as f64;
    let mut chart = ChartBuilder::on(&body)
        .margin_left(MARGIN)
        .margin_right(VALUE_ROOM)
        .margin_bottom(MARGIN)
        .x_label_area_size(X_AXIS_BAND)
        .y_label_area_size(label_area)
        .build_cartesian_2d(0f64..bars.x_max, 0f64..rows)?;
    // The y axis's own labels would sit at round numbers, not one beside each bar: the bars'
    // labels are drawn below instead.
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_labels(6)
        .x_max_light_lines(0)
        .x_label_formatter(&bars.x_format)
        .x_desc(bars.x_desc)
        .label_style(lettering.text(12.0, &INK))
        .axis_desc_style(lettering.text(12.0, &MUTED_INK))
        .axis_style(INK)
        .bold_line_style(GRID)
        .draw()?;

    let right_middle = Pos::new(HPos::Right, VPos::Center);
    let left_middle = Pos::new(HPos::Left, VPos::Center);
    // A dark edge keeps neighbouring segments apart when printed in grey.
    let outline = INK.stroke_width(1);
    for (index, row) in bars.rows.iter().enumerate() {
        // The first row is drawn at the top, where the y axis ends.
        let bottom = rows - index as f64 - 1.0;
        let middle = bottom + 0.5;
        let mut start = 0.0;
        for &(value, colour) in &row.segments {
            if value <= 0.0 {
                continue;
            }
            let corners = [
                (start, bottom + BAR_INSET),
                (start + value, bottom + 1.0 - BAR_INSET),
            ];
            chart.draw_series([
                Rectangle::new(corners, colour.filled()),
                Rectangle::new(corners, outline),
            ])?;
            start += value;
        }
        chart.draw_series([
            EmptyElement::at((0.0, middle))
                + Text::new(
                    row.label.clone(),
                    (-(LABEL_GAP as i32), 0),
                    label_style.pos(right_middle),
                ),
            EmptyElement::at((start, middle))
                + Text::new(
                    row.note.clone(),
                    (4, 0),
                    lettering.text(12.0, &MUTED_INK).pos(left_middle),
                ),
        ])?;
    }
    chart.draw_series([PathElement::new([(0.0, 0.0), (0.0, rows)], INK)])?;
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lettering: Lettering,
    legend: &[(&str, RGBColor)],
    top: i32,
) -> DrawResult<DB> {
    const SWATCH: i32 = 12;
    let style = lettering
        .text(12.0, &INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let middle = top + LEGEND_BAND as i32 / 2 - 2;
    let mut x = MARGIN as i32;
    for (name, colour) in legend {
        let corners = [(x, middle - SWATCH / 2), (x + SWATCH, middle + SWATCH / 2)];
        root.draw(&Rectangle::new(corners, colour.filled()))?;
        root.draw(&Rectangle::new(corners, INK.stroke_width(1)))?;
        let label_x = x + SWATCH + 6;
        root.draw(&Text::new(*name, (label_x, middle), style.clone()))?;
        let width = root
            .estimate_text_size(name, &Lettering::MEASURE.text(12.0, &INK))?
            .0;
        x = label_x + width as i32 + 18;
    }
    Ok(())
}

fn draw_trend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lettering: Lettering,
    trend: &Trend,
) -> DrawResult<DB> {
    draw_title(root, lettering, trend.title)?;
    let (_, body) = root.split_vertically(TITLE_BAND);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(MARGIN)
        .margin_right(MARGIN * 3)
        .margin_top(8)
        .margin_bottom(MARGIN)
        .x_label_area_size(X_AXIS_BAND)
        .y_label_area_size(64)
        .build_cartesian_2d(trend.first..trend.last, 0f64..100f64)?;
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(6)
        .max_light_lines(0)
        .x_label_formatter(&|day| day.format("%Y-%m-%d").to_string())
        .y_label_formatter(&format_percent_tick)
        .y_desc("compliant (%)")
        .label_style(lettering.text(12.0, &INK))
        .axis_desc_style(lettering.text(12.0, &MUTED_INK))
        .axis_style(INK)
        .bold_line_style(GRID)
        .draw()?;
    for run in &trend.runs {
        // A lone day has no line to draw; its marker below shows it.
        if run.len() > 1 {
            chart.draw_series(LineSeries::new(run.iter().copied(), LINE.stroke_width(2)))?;
        }
    }
    chart.draw_series(
        trend
            .runs
            .iter()
            .flatten()
            .map(|&point| Circle::new(point, 3, LINE.filled())),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const HOSTILE: &str = r#"<script>alert(1)</script> & "x""#;

    fn platform(name: &str, counts: [u64; 4]) -> PlatformBar {
        PlatformBar {
            platform: name.to_owned(),
            compliant: counts[0],
            noncompliant: counts[1],
            no_policy: counts[2],
            stale: counts[3],
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn policies(count: usize) -> Chart {
        Chart::PolicyCompliance {
            rows: (0..count)
                .map(|i| {
                    (
                        format!("Policy {i:02}"),
                        Some(i as f64 * 100.0 / count as f64),
                    )
                })
                .collect(),
        }
    }

    fn samples() -> Vec<Chart> {
        vec![
            Chart::PlatformCompliance {
                rows: vec![
                    platform("Windows 11", [120, 14, 3, 7]),
                    platform("macOS", [30, 2, 0, 1]),
                    platform("Linux", [0, 0, 5, 0]),
                ],
            },
            Chart::PolicyCompliance {
                rows: vec![
                    ("Firewall".to_owned(), Some(41.5)),
                    ("ASR rules".to_owned(), None),
                ],
            },
            Chart::Trend {
                points: vec![
                    (day(1), Some(80.0)),
                    (day(2), Some(82.5)),
                    (day(3), None),
                    (day(4), Some(85.0)),
                    (day(5), Some(90.0)),
                ],
            },
        ]
    }

    fn svg_height(svg: &str) -> u32 {
        let rest = &svg[svg.find("height=\"").unwrap() + 8..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn titles_name_the_chart() {
        let titles: Vec<_> = samples().iter().map(Chart::title).collect();
        assert_eq!(
            titles,
            [
                "Devices by platform and compliance",
                "Compliance by policy",
                "Compliance trend"
            ]
        );
    }

    #[test]
    fn same_chart_gives_identical_svg_and_png() {
        for chart in samples() {
            assert_eq!(
                chart.svg().unwrap(),
                chart.clone().svg().unwrap(),
                "{}",
                chart.title()
            );
            assert!(
                chart.png().unwrap() == chart.clone().png().unwrap(),
                "{}",
                chart.title()
            );
        }
    }

    #[test]
    fn svg_is_a_bare_document_in_the_bundled_font() {
        for chart in samples() {
            let svg = chart.svg().unwrap();
            assert!(svg.starts_with("<svg"), "{}", chart.title());
            assert!(svg.contains(r#"width="760""#));
            assert!(svg.contains(r#"font-family="DejaVu Sans""#));
            assert!(svg.contains(chart.title()));
        }
    }

    #[test]
    fn svg_escapes_hostile_labels_once() {
        let charts = [
            Chart::PolicyCompliance {
                rows: vec![(HOSTILE.to_owned(), Some(50.0))],
            },
            Chart::PlatformCompliance {
                rows: vec![platform(HOSTILE, [1, 2, 3, 4])],
            },
        ];
        for chart in charts {
            let svg = chart.svg().unwrap();
            assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
            assert!(!svg.contains("<script"));
            assert!(!svg.contains("&amp;lt;"), "escaped twice");
        }
    }

    #[test]
    fn png_decodes_to_a_drawing() {
        for chart in samples() {
            let png = chart.png().unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
            let image = image::load_from_memory(&png).unwrap().to_rgb8();
            assert_eq!(image.width(), WIDTH);
            assert_eq!(image.height(), svg_height(&chart.svg().unwrap()));
            let colours: HashSet<_> = image.pixels().map(|p| p.0).collect();
            assert!(
                colours.len() > 2,
                "{}: {} colours",
                chart.title(),
                colours.len()
            );
        }
    }

    #[test]
    fn empty_charts_say_no_data() {
        let charts = [
            Chart::PlatformCompliance { rows: vec![] },
            Chart::PolicyCompliance { rows: vec![] },
            Chart::Trend { points: vec![] },
            Chart::Trend {
                points: vec![(day(1), None), (day(2), None)],
            },
        ];
        for chart in charts {
            let svg = chart.svg().unwrap();
            assert!(
                svg.starts_with("<svg") && svg.contains("no data"),
                "{}",
                chart.title()
            );
            let png = chart.png().unwrap();
            assert!(image::load_from_memory(&png).is_ok());
        }
    }

    #[test]
    fn more_than_40_bars_draws_40_with_a_caption() {
        let svg = policies(57).svg().unwrap();
        assert!(svg.contains("first 40 of 57 shown"));
        assert!(svg.contains("Policy 39"));
        assert!(!svg.contains("Policy 40"));
        let forty = policies(40).svg().unwrap();
        assert!(!forty.contains(" shown"));
        assert_eq!(svg_height(&svg), svg_height(&forty) + CAPTION_BAND);
    }

    #[test]
    fn height_grows_with_the_bars() {
        let heights: Vec<_> = [1, 2, 10]
            .map(|n| svg_height(&policies(n).svg().unwrap()))
            .into();
        assert_eq!(heights[1] - heights[0], BAR_PITCH);
        assert_eq!(heights[2] - heights[0], 9 * BAR_PITCH);
    }

    #[test]
    fn missing_or_broken_percentage_reads_n_a_without_a_bar() {
        let bar_fill = r##"fill="#009E73""##;
        let chart = Chart::PolicyCompliance {
            rows: vec![
                ("Firewall".to_owned(), Some(41.5)),
                ("ASR rules".to_owned(), None),
                ("Broken".to_owned(), Some(f64::NAN)),
            ],
        };
        let svg = chart.svg().unwrap();
        assert_eq!(svg.matches("n/a").count(), 2);
        assert!(svg.contains("41.5%"));
        assert_eq!(svg.matches(bar_fill).count(), 1);
    }

    #[test]
    fn platform_bars_stack_every_non_zero_state() {
        let chart = Chart::PlatformCompliance {
            rows: vec![
                platform("Windows", [5, 4, 3, 2]),
                platform("Linux", [0, 0, 5, 0]),
            ],
        };
        let svg = chart.svg().unwrap();
        for (state, colour, bars) in [
            ("compliant", "#009E73", 1),
            ("noncompliant", "#D55E00", 1),
            ("no policy", "#999999", 2),
            ("stale", "#E69F00", 1),
        ] {
            // One more for the legend's swatch.
            let fills = svg.matches(&format!(r#"fill="{colour}""#)).count();
            assert_eq!(fills, bars + 1, "{state}");
        }
        assert!(
            svg.contains(">\n14\n</text>"),
            "total written after the bar"
        );
    }

    #[test]
    fn missing_day_breaks_the_trend_line() {
        let svg = samples()[2].svg().unwrap();
        let line = r##"stroke="#0072B2""##;
        let segments = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(line));
        assert_eq!(segments.count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4);
    }

    #[test]
    fn lone_day_is_a_marker_on_a_widened_axis() {
        let chart = Chart::Trend {
            points: vec![(day(10), Some(75.0))],
        };
        let svg = chart.svg().unwrap();
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("2026-11-10"));
    }

    #[test]
    fn labels_are_one_line_and_at_most_40_characters() {
        let long = "Attack surface reduction rules for Office macros and scripts";
        let label = bar_label(long);
        assert_eq!(label.chars().count(), MAX_LABEL_CHARS);
        assert!(label.starts_with("Attack surface reduction rules for") && label.ends_with('…'));
        assert_eq!(bar_label("Win\ndows\t11 "), "Win dows 11");
        assert_eq!(bar_label(" "), "(blank)");
        assert_eq!(bar_label(&"é".repeat(40)), "é".repeat(40));
    }
}
