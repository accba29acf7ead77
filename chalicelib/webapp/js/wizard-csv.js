// The first rows of a text file, read in the browser with what the analysis
// detected (encoding, delimiter), so the mapping step can show each column's
// own sample values, also for rows the import will reject.

const DECODERS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", cp1252: "windows-1252",
  "windows-1252": "windows-1252", "latin-1": "iso-8859-1", "iso-8859-1": "iso-8859-1",
  "utf-16": "utf-16le", "utf-16-le": "utf-16le", "utf-16le": "utf-16le", "utf-16-be": "utf-16be",
  "utf-16be": "utf-16be"};

/** Up to `max` rows (the header first) as arrays of cells; quotes respected. */
export function parseRows(buffer, encoding, delimiter, max) {
  const label = DECODERS[String(encoding || "utf-8").toLowerCase()] || "utf-8";
  let text = new TextDecoder(label).decode(buffer);
  text = text.replace(/^\uFEFF/, "");
  if (/^sep=.\r?\n/i.test(text)) text = text.replace(/^sep=.\r?\n/i, "");
  const sep = delimiter || ",";
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < max; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === "") {
      quoted = true;
    } else if (c === sep) {
      row.push(cell); cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); cell = "";
      if (row.some((value) => value.trim() !== "")) rows.push(row); // blank lines are skipped
      row = [];
    } else {
      cell += c;
    }
  }
  if (rows.length < max && (cell !== "" || row.length)) {
    row.push(cell);
    if (row.some((value) => value.trim() !== "")) rows.push(row);
  }
  return rows;
}
