/* The review desk's maps: Leaflet and markercluster served by the desk, no tiles, no internet. */
(function () {
  "use strict";
  var COLOURS = {
    pending: "#fd8d3c", confirmed: "#e6550d", in_progress: "#3182bd",
    rectified: "#31a354", resolved: "#74c476", dismissed: "#969696", overdue: "#cb181d"
  };
  function text(tag, value) {
    var el = document.createElement(tag);
    el.textContent = value == null ? "" : String(value);
    return el;
  }
  function popup(p, labels) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = "/cases/" + encodeURIComponent(p.finding_id);
    link.textContent = p.hazard_name;
    box.appendChild(link);
    box.appendChild(text("div", (labels[p.state] || p.state) + " · " + p.school_name));
    box.appendChild(text("div", p.responsible_unit + " · " + (p.deadline || "")));
    return box;
  }
  function lastPoint(geometry) {
    var c = geometry.type === "LineString" ? geometry.coordinates[geometry.coordinates.length - 1]
      : geometry.coordinates;
    return L.latLng(c[1], c[0]);
  }
  var caseMap = document.getElementById("case-map");
  if (caseMap) {
    var geom = JSON.parse(caseMap.getAttribute("data-geojson"));
    var map1 = L.map(caseMap, { maxZoom: 19 });
    var layer = L.geoJSON(geom, { style: { color: "#cb181d", weight: 4 } });
    map1.fitBounds(layer.getBounds(), { maxZoom: 18, padding: [30, 30] });
    layer.addTo(map1);
    if (geom.type === "LineString") {
      var first = geom.coordinates[0];
      L.circleMarker([first[1], first[0]], { radius: 6, color: "#08519c" }).addTo(map1);
      L.circleMarker(lastPoint(geom), { radius: 6, color: "#cb181d" }).addTo(map1);
    }
  }
  var deskMap = document.getElementById("desk-map");
  if (deskMap) {
    var labels = JSON.parse(deskMap.getAttribute("data-labels"));
    var map2 = L.map(deskMap, { maxZoom: 19 }).setView([34.0, 108.9], 12);
    var lines = L.layerGroup();
    var schools = L.layerGroup();
    var seenSchools = {};
    var cluster = L.markerClusterGroup({ chunkedLoading: true });
    fetch(deskMap.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        data.features.forEach(function (f) {
          var colour = COLOURS[f.properties.state] || "#333";
          var marker = L.circleMarker(lastPoint(f.geometry), {
            radius: 7, color: colour, fillColor: colour, fillOpacity: 0.8
          });
          marker.bindPopup(popup(f.properties, labels));
          cluster.addLayer(marker);
          lines.addLayer(L.geoJSON(f.geometry, { style: { color: colour, weight: 2 } }));
          var school = f.properties.school;
          if (school && !seenSchools[school[0]]) {
            seenSchools[school[0]] = true;
            var mark = L.circleMarker([school[3], school[2]], {
              radius: 5, color: "#08519c", fillColor: "#fff", fillOpacity: 1, weight: 3
            });
            mark.bindTooltip(text("span", school[1]));
            schools.addLayer(mark);
          }
        });
        schools.addTo(map2);
        cluster.addTo(map2);
        var names = JSON.parse(deskMap.getAttribute("data-layers"));
        var overlays = {};
        overlays[names.cases] = cluster;
        overlays[names.lines] = lines;
        overlays[names.schools] = schools;
        L.control.layers(null, overlays, { collapsed: false }).addTo(map2);
        if (data.features.length) { map2.fitBounds(cluster.getBounds(), { padding: [20, 20] }); }
        deskMap.setAttribute("data-count", String(data.features.length));
      });
  }
}());
