// DOM pieces the page's panels share. tableRow: a <tr> of class `cls` with one <td> per cell;
// a cell is a value or [value, className] ("num" right-aligns a number).
export function tableRow(cls, cells) {
  const tr = document.createElement("tr");
  tr.className = cls;
  for (const c of cells) {
    const [v, tdClass] = Array.isArray(c) ? c : [c, ""];
    const td = document.createElement("td");
    td.textContent = v;
    if (tdClass) td.className = tdClass;
    tr.appendChild(td);
  }
  return tr;
}
