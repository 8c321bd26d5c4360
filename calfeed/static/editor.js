// The event form: "all day" switches start and end between a date picker and
// a date-and-time picker. Without this script the form works the same: the
// server reads either kind of value, and "all day" keeps only the dates.
(function () {
  "use strict";
  var box = document.getElementById("all_day");
  if (!box) { return; }
  var times = { start: "09:00", end: "10:00" };
  function sync() {
    Object.keys(times).forEach(function (id) {
      var input = document.getElementById(id);
      if (!input || input.type === "text") { return; }  // an offset or a typo: shown as typed
      var value = input.value;
      if (box.checked && input.type !== "date") {
        input.type = "date";
        input.value = value.slice(0, 10);
      } else if (!box.checked && input.type !== "datetime-local") {
        input.type = "datetime-local";
        input.value = value ? value.slice(0, 10) + "T" + times[id] : "";
      }
    });
  }
  box.addEventListener("change", sync);
}());
