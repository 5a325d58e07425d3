//! A small `WordprocessingML` (.docx) writer for the dossier and the 告知书:
//! headings, paragraphs and tables on A4 with a Chinese font, written into
//! the zip crate `rust_xlsxwriter` already brings. (docx-rs was considered: it
//! would add a second zip and quick-xml version and encoding tables for
//! what is a few XML parts.)

use std::fmt::Write as _;
use std::io::{Cursor, Write};

use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

/// One block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A centred title.
    Title(String),
    /// A section heading.
    Heading(String),
    /// A paragraph; `bold` for emphasis.
    Para { text: String, bold: bool },
    /// A table: the first row is the header.
    Table(Vec<Vec<String>>),
    /// A right-aligned line (a signature, a date).
    Right(String),
}

impl Block {
    #[must_use]
    pub fn para(text: impl Into<String>) -> Self {
        Self::Para {
            text: text.into(),
            bold: false,
        }
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A run of text (size in half-points); line breaks become `<w:br/>`.
fn run(text: &str, bold: bool, size: u32) -> String {
    let props = format!(
        "<w:rPr><w:rFonts w:ascii=\"SimSun\" w:hAnsi=\"SimSun\" w:eastAsia=\"SimSun\"/>{}<w:sz w:val=\"{size}\"/><w:szCs w:val=\"{size}\"/></w:rPr>",
        if bold { "<w:b/>" } else { "" }
    );
    text.split('\n')
        .enumerate()
        .fold(String::new(), |mut out, (i, line)| {
            let br = if i > 0 { "<w:br/>" } else { "" };
            let _ = write!(
                out,
                "<w:r>{props}{br}<w:t xml:space=\"preserve\">{}</w:t></w:r>",
                esc(line)
            );
            out
        })
}

fn para(text: &str, bold: bool, size: u32, align: &str) -> String {
    format!(
        "<w:p><w:pPr><w:jc w:val=\"{align}\"/><w:spacing w:after=\"120\"/></w:pPr>{}</w:p>",
        run(text, bold, size)
    )
}

fn table(rows: &[Vec<String>]) -> String {
    let border = "<w:top w:val=\"single\" w:sz=\"4\"/><w:left w:val=\"single\" w:sz=\"4\"/><w:bottom w:val=\"single\" w:sz=\"4\"/><w:right w:val=\"single\" w:sz=\"4\"/><w:insideH w:val=\"single\" w:sz=\"4\"/><w:insideV w:val=\"single\" w:sz=\"4\"/>";
    let mut out = format!(
        "<w:tbl><w:tblPr><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:tblBorders>{border}</w:tblBorders></w:tblPr>"
    );
    for (i, row) in rows.iter().enumerate() {
        out.push_str("<w:tr>");
        for cell in row {
            out.push_str("<w:tc><w:tcPr><w:tcW w:w=\"0\" w:type=\"auto\"/></w:tcPr>");
            let _ = write!(out, "<w:p>{}</w:p>", run(cell, i == 0, 20));
            out.push_str("</w:tc>");
        }
        out.push_str("</w:tr>");
    }
    out.push_str("</w:tbl><w:p/>");
    out
}

fn document_xml(blocks: &[Block]) -> String {
    let mut body = String::new();
    for b in blocks {
        body.push_str(&match b {
            Block::Title(t) => para(t, true, 36, "center"),
            Block::Heading(t) => para(t, true, 28, "left"),
            Block::Para { text, bold } => para(text, *bold, 24, "both"),
            Block::Right(t) => para(t, false, 24, "right"),
            Block::Table(rows) => table(rows),
        });
    }
    // A4: 11906 × 16838 twips, 2.5 cm margins
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}\
<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1418\" w:right=\"1418\" w:bottom=\"1418\" w:left=\"1418\" w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/></w:sectPr>\
</w:body></w:document>"
    )
}

const CONTENT_TYPES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
</Types>";

const RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
</Relationships>";

/// Writes the blocks as a .docx file.
pub fn write(blocks: &[Block]) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, text) in [
        ("[Content_Types].xml", CONTENT_TYPES.to_owned()),
        ("_rels/.rels", RELS.to_owned()),
        ("word/document.xml", document_xml(blocks)),
    ] {
        z.start_file(name, opts)?;
        z.write_all(text.as_bytes())?;
    }
    Ok(z.finish()?.into_inner())
}

/// The blocks as a printable A4 HTML page (the same text as the .docx).
#[must_use]
pub fn to_html(title: &str, blocks: &[Block]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\
<style>@page{{size:A4;margin:20mm}}body{{font-family:'Noto Serif CJK SC','SimSun',serif;font-size:12pt;line-height:1.7;color:#111;max-width:170mm;margin:auto;padding:8mm 0}}\
h1{{text-align:center;font-size:18pt;margin:6mm 0}}h2{{font-size:13pt;margin:5mm 0 2mm}}p{{text-indent:2em;margin:1.5mm 0}}p.b{{font-weight:bold}}\
p.r{{text-align:right;text-indent:0}}table{{border-collapse:collapse;width:100%;margin:2mm 0;font-size:10.5pt}}td,th{{border:1px solid #444;padding:1mm 2mm;text-align:left}}th{{background:#eee}}</style></head><body>",
        esc(title)
    );
    for b in blocks {
        match b {
            Block::Title(t) => {
                let _ = write!(h, "<h1>{}</h1>", esc(t));
            }
            Block::Heading(t) => {
                let _ = write!(h, "<h2>{}</h2>", esc(t));
            }
            Block::Para { text, bold } => {
                let class = if *bold { " class=\"b\"" } else { "" };
                let _ = write!(h, "<p{class}>{}</p>", esc(text).replace('\n', "<br>"));
            }
            Block::Right(t) => {
                let _ = write!(h, "<p class=\"r\">{}</p>", esc(t));
            }
            Block::Table(rows) => {
                h.push_str("<table>");
                for (i, row) in rows.iter().enumerate() {
                    let tag = if i == 0 { "th" } else { "td" };
                    h.push_str("<tr>");
                    for c in row {
                        let _ = write!(h, "<{tag}>{}</{tag}>", esc(c));
                    }
                    h.push_str("</tr>");
                }
                h.push_str("</table>");
            }
        }
    }
    h.push_str("</body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_docx_is_a_zip_holding_the_text_escaped() {
        let bytes = write(&[
            Block::Title("告知书".into()),
            Block::para("A & B <C>"),
            Block::Table(vec![vec!["项目".into(), "内容".into()]]),
        ])
        .expect("docx");
        assert!(bytes.starts_with(b"PK\x03\x04"));
        assert_eq!(
            crate::casefile::media::sniff(&bytes),
            Some(crate::casefile::media::MediaType::Docx),
            "our own uploads would be taken back"
        );
        let xml = document_xml(&[Block::para("A & B <C>")]);
        assert!(xml.contains("A &amp; B &lt;C&gt;"));
    }
}
