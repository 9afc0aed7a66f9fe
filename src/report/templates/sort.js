// Sorting by a click on a column header, and a filter box above long tables.
// Works from a file on disk; nothing is fetched.
(function () {
  function cellValue(row, i) {
    var text = row.cells[i].textContent.trim();
    var n = Number(text);
    return text !== "" && !isNaN(n) ? n : text.toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var body = table.tBodies[0];
    table.querySelectorAll("th").forEach(function (th, i) {
      var ascending = true;
      th.addEventListener("click", function () {
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i), y = cellValue(b, i);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
        ascending = !ascending;
      });
    });
    var filter = table.previousElementSibling;
    if (filter && filter.classList.contains("filter")) {
      filter.addEventListener("input", function () {
        var needle = filter.value.toLowerCase();
        Array.prototype.forEach.call(body.rows, function (r) {
          r.hidden = needle !== "" && r.textContent.toLowerCase().indexOf(needle) < 0;
        });
      });
    }
  });
})();
