/* Progressive enhancement: the server-drawn SVG map works without this. On request, load the
   locally served Leaflet and show the same shapes with pan and zoom; no tiles unless configured. */
(function () {
  "use strict";
  var figure = document.getElementById("map");
  if (!figure || !figure.dataset.geojson) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "secondary map-toggle";
  button.textContent = "Pan and zoom this map";
  button.setAttribute("aria-expanded", "false");
  figure.parentNode.insertBefore(button, figure);
  var container = null;

  function load(src, css, done) {
    if (window.L) return done();
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = css;
    document.head.appendChild(link);
    var script = document.createElement("script");
    script.src = src;
    script.onload = done;
    document.head.appendChild(script);
  }

  /* Hidden figures are hatched, as on the simple map and in the legend ("fewer than 5"
     hatched, "not shown" cross-hatched): Leaflet's SVG gets a copy of the simple map's patterns
     (a pattern in a hidden SVG does not paint), each id prefixed with "leaflet-" and without the
     simple map's scaling from metres. */
  var PATTERNS = { small: "url(#leaflet-hatch)", withheld: "url(#leaflet-withheld-hatch)" };

  function hatch(container) {
    var defs = figure.querySelector("svg.choropleth defs");
    var svg = container.querySelector(".leaflet-overlay-pane svg");
    if (!defs || !svg) return;
    var copy = defs.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("pattern"), function (pattern) {
      pattern.id = "leaflet-" + pattern.id;
      pattern.setAttribute("patternTransform", "rotate(45)"); /* Leaflet draws in pixels */
    });
    svg.insertBefore(copy, svg.firstChild);
  }

  /* The tooltip is built from text nodes: names and words come from the data, never as HTML. */
  function tooltip(p) {
    var box = document.createElement("span");
    var name = document.createElement("strong");
    name.textContent = p.name;
    box.appendChild(name);
    /* A withheld figure says why it is not shown ("not shown, so that ..."), never "fewer than". */
    var words = ": " + (p.status === "withheld" && p.note ? p.note : p.shown_as);
    if (p.band) words += ", " + p.band;
    box.appendChild(document.createTextNode(words));
    return box;
  }

  function draw(data) {
    container = document.createElement("div");
    container.className = "leaflet-map";
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", "Interactive map: the same areas and figures as the table");
    figure.insertBefore(container, figure.firstChild);
    var map = window.L.map(container, { attributionControl: true });
    if (figure.dataset.tiles) {
      window.L.tileLayer(figure.dataset.tiles, { attribution: figure.dataset.attribution || "" }).addTo(map);
    }
    var layer = window.L.geoJSON(data, {
      style: function (feature) {
        var p = feature.properties;
        return {
          color: "#0b0c0c",
          weight: p.focus ? 3 : 1,
          fillOpacity: 1,
          fillColor: PATTERNS[p.status] || p.fill
        };
      },
      onEachFeature: function (feature, shape) {
        var p = feature.properties;
        shape.bindTooltip(tooltip(p));
        shape.on("click", function () { window.location.href = p.url; });
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds());
    hatch(container); /* Leaflet makes its SVG once the map has a view */
  }

  button.addEventListener("click", function () {
    var svg = figure.querySelector("svg.choropleth");
    if (container) {
      var showing = !container.hidden;
      container.hidden = showing;
      svg.hidden = !showing;
      button.setAttribute("aria-expanded", String(!showing));
      button.textContent = showing ? "Pan and zoom this map" : "Show the simple map";
      return;
    }
    load(figure.dataset.leafletJs, figure.dataset.leafletCss, function () {
      fetch(figure.dataset.geojson).then(function (r) { return r.json(); }).then(function (data) {
        draw(data);
        svg.hidden = true;
        button.setAttribute("aria-expanded", "true");
        button.textContent = "Show the simple map";
      });
    });
  });
})();
