/* "Use my location": only when the person presses the button; the position is sent once. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-locate]");
  if (!form || !navigator.geolocation) return;
  var button = form.querySelector("[data-locate-button]");
  button.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    button.textContent = "Finding your location…";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(5);
        form.elements.lon.value = position.coords.longitude.toFixed(5);
        form.submit();
      },
      function () {
        button.disabled = false;
        button.textContent = "Use my location";
        var note = form.querySelector(".locate-help");
        note.textContent = "We could not get your location. Search by postcode or place name instead.";
        note.setAttribute("role", "status");
      },
      { timeout: 10000, maximumAge: 60000 }
    );
  });
})();
