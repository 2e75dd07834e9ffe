/*
 * campus_geo map runtime (part of campus_geo, MIT licence).
 *
 * Builds the layers of a campus_geo hazard map from one JSON document written
 * by campus_geo.maps (a <script type="application/json"> block), with Leaflet
 * and Leaflet.markercluster. Written by hand because folium's GeoJson layers
 * carry every property of every feature as GeoJSON (tens of MB for 50,000
 * hazards) and build their popups with innerHTML: here the data is compact
 * (delta-encoded integer coordinates, lookup tables for rule texts) and every
 * text that comes from the data reaches the page through textContent, so a
 * venue whose name is an HTML image tag with an onerror handler is shown as
 * that text and runs nothing.
 */
(function () {
  "use strict";

  var HEX = /^#[0-9a-fA-F]{3,8}$/;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function colour(value) {
    return HEX.test(value) ? value : "#777777";
  }

  /* A path of delta-encoded integers [lat0, lon0, dlat1, dlon1, ...] at 1/k degree. */
  function decodePath(ints, k) {
    var out = new Array(ints.length / 2);
    var lat = 0;
    var lon = 0;
    for (var i = 0, j = 0; i < ints.length; i += 2, j += 1) {
      lat += ints[i];
      lon += ints[i + 1];
      out[j] = [lat / k, lon / k];
    }
    return out;
  }

  /* Geometry: [1, lat, lon] point, [2, paths] lines, [3, polygons of rings] areas. */
  function decode(g, k) {
    if (g[0] === 1) return [g[1] / k, g[2] / k];
    if (g[0] === 2) return g[1].map(function (p) { return decodePath(p, k); });
    return g[1].map(function (poly) {
      return poly.map(function (ring) { return decodePath(ring, k); });
    });
  }

  function shape(g, k, options) {
    var latlngs = decode(g, k);
    if (g[0] === 1) return L.circleMarker(latlngs, options);
    if (g[0] === 2) return L.polyline(latlngs, options);
    return L.polygon(latlngs, options);
  }

  /* A two-column table of [label, value] rows, built with textContent only. */
  function table(title, rows, link) {
    var box = el("div", "cg-popup");
    if (title) box.appendChild(el("div", "cg-popup-title", title));
    var tab = el("table");
    rows.forEach(function (row) {
      if (row[1] === "" || row[1] === null || row[1] === undefined) return;
      var tr = el("tr");
      tr.appendChild(el("th", null, row[0]));
      tr.appendChild(el("td", null, row[1]));
      tab.appendChild(tr);
    });
    box.appendChild(tab);
    if (link && link[1]) {
      var a = el("a", "cg-link", link[0]);
      a.setAttribute("href", link[1]);
      box.appendChild(a);
    }
    return box;
  }

  function State(map, data) {
    this.map = map;
    this.d = data;
    this.t = data.text;
    this.layers = { zones: [], categories: [], schools: null, basemap: null };
    this.pending = [];
    this.closed = false;
    map.getContainer().classList.add("cg-map", "cg-basemap-" + data.basemap);
    var panes = [["cgBasemap", 250], ["cgZones", 350], ["cgSchools", 420], ["cgLines", 440]];
    this.renderers = {};
    for (var i = 0; i < panes.length; i += 1) {
      var pane = map.createPane(panes[i][0]);
      pane.style.zIndex = String(panes[i][1]);
      this.renderers[panes[i][0]] = L.canvas({ pane: panes[i][0], padding: 0.5 });
    }
    this.hover = L.tooltip({ sticky: true, direction: "top", className: "cg-tip" });
    // a metric scale bar only (metres, kilometres): the campaign's distances are metres
    L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(map);
    (data.attribution || []).forEach(function (text) {
      map.attributionControl.addAttribution(text);
    });
    if (L.Icon && L.Icon.Default && data.markerIcons) {
      // the default marker images, inlined (Leaflet looks for them next to its CSS file)
      L.Icon.Default.imagePath = "";
      L.Icon.Default.mergeOptions(data.markerIcons);
    }
  }

  /* Work still running after the scripts (chunked clustering): the map is ready after it. */
  State.prototype.wait = function (job) {
    this.pending.push(job);
  };

  State.prototype.settle = function (job) {
    var i = this.pending.indexOf(job);
    if (i >= 0) this.pending.splice(i, 1);
    if (this.closed && !this.pending.length) this.ready();
  };

  State.prototype.ready = function () {
    var container = this.map.getContainer();
    requestAnimationFrame(function () { container.setAttribute("data-cg-ready", "1"); });
  };

  State.prototype.popupAt = function (latlng, content) {
    L.popup({ maxWidth: 420, className: "cg-popup-wrap" })
      .setLatLng(latlng)
      .setContent(content)
      .openOn(this.map);
  };

  /* One shared hover tooltip per map (no Tooltip object per feature). */
  State.prototype.hoverOn = function (group, text) {
    var s = this;
    group.on("mouseover", function (e) {
      var content = text(e.layer);
      if (!content) return;
      s.hover.setContent(el("span", null, content));
      s.hover.setLatLng(e.latlng);
      s.map.openTooltip(s.hover);
    });
    group.on("mousemove", function (e) { s.hover.setLatLng(e.latlng); });
    group.on("mouseout", function () { s.map.closeTooltip(s.hover); });
  };

  State.prototype.schoolPopup = function (i) {
    var t = this.t;
    var r = this.d.schools.rows[i];
    var rows = [
      [t.kind, r[2]],
      [t.place, [r[3], r[4]].filter(Boolean).join(" ")],
      [t.findings, r[8].length ? r[8].map(function (c) { return c[0] + " " + c[1]; }).join("；") : t.none],
    ];
    if (r[7]) rows.push([t.restricted, r[7]]);
    rows.push([t.id, r[0]]);
    rows.push([t.source, r[5]]);
    return table(r[1], rows, r[6] ? [t.schoolMap, r[6]] : null);
  };

  State.prototype.openSchool = function (i) {
    var layer = this.schoolLayers[i];
    var bounds = layer.getBounds ? layer.getBounds() : L.latLngBounds([layer.getLatLng()]);
    this.map.fitBounds(bounds.pad(1.5), { maxZoom: 17 });
    this.popupAt(bounds.getCenter(), this.schoolPopup(i));
  };

  function findingPopup(s, layer) {
    var t = s.t;
    var f = layer.options.cgRow;
    var cat = s.d.layers[layer.options.cgLayer];
    var rule = s.d.rules[f[1]];
    var school = s.d.schools.rows[f[0]];
    var hazard = cat.rows[f[2]];
    var rows = [
      [t.school, school[1]],
      [t.venue, hazard[1] || t.unnamed],
      [t.category, s.d.cats[cat.cat][0]],
      [t.distance, f[4]],
      [t.rule, rule[0]],
      [t.basis, rule[4]],
      [t.suggestion, rule[5]],
      [t.notes, f[5]],
    ];
    if (s.d.status) rows.push([t.status, f[6] !== null ? s.d.status[f[6]][0] : t.noStatus]);
    rows.push([t.id, f[7]]);
    return table(t.finding, rows);
  }

  function hazardPopup(s, layer) {
    var t = s.t;
    var cat = s.d.layers[layer.options.cgLayer];
    var h = cat.rows[layer.options.cgRow];
    return table(h[1] || t.unnamed, [
      [t.category, s.d.cats[cat.cat][0]],
      [t.subcategory, h[2]],
      [t.address, h[3]],
      [t.findings, h[4] ? h[4] : t.none],
      [t.id, h[0]],
    ]);
  }

  function iconHtml(fill, ring, glyph) {
    var span = el("span", "cg-haz-glyph", glyph);
    span.style.background = colour(fill);
    if (ring) span.style.boxShadow = "0 0 0 3px " + colour(ring);
    return span.outerHTML;
  }

  var campusGeo = {
    version: 1,
    maps: {},
    decode: decode,

    init: function (map, dataId) {
      var data = JSON.parse(document.getElementById(dataId).textContent);
      var s = new State(map, data);
      campusGeo.maps[map.getContainer().id] = s;
      return s;
    },

    /* The offline vector basemap: water areas, buildings, waterways, streets (cased).
       Each class is drawn from its style's minzoom on, as on any basemap: a district's
       every lane at zoom 10 is a grey smear that only slows the first render. */
    basemap: function (s) {
      var b = s.d.base;
      var renderer = s.renderers.cgBasemap;
      var group = L.featureGroup();
      var byZoom = [];
      function add(target, f, style, casing) {
        var areal = f[2][0] === 3;
        target.addLayer(shape(f[2], b.k, {
          renderer: renderer, pane: "cgBasemap", interactive: !casing && Boolean(f[1]),
          color: colour(casing ? style.casing : style.color),
          weight: casing ? style.weight + 2 : style.weight, opacity: 1, stroke: style.weight > 0,
          fill: areal, fillColor: colour(style.fill || style.color), fillOpacity: areal ? 1 : 0,
          dashArray: casing ? null : style.dash || null, lineCap: "round", lineJoin: "round",
          cg: "basemap", cgName: f[1], cgCasing: casing,
        }));
      }
      b.layers.forEach(function (part) {
        var classes = {};
        function target(key) {
          if (!classes[key]) {
            classes[key] = L.layerGroup();
            byZoom.push([part.styles[key].minzoom || 0, classes[key]]);
          }
          return classes[key];
        }
        part.features.forEach(function (f) {
          if (part.styles[f[0]].casing) add(target(f[0]), f, part.styles[f[0]], true);
        });
        part.features.forEach(function (f) { add(target(f[0]), f, part.styles[f[0]], false); });
      });
      function update() {
        var zoom = s.map.getZoom();
        byZoom.forEach(function (entry) {
          var wanted = zoom >= entry[0];
          if (wanted && !group.hasLayer(entry[1])) group.addLayer(entry[1]);
          if (!wanted && group.hasLayer(entry[1])) group.removeLayer(entry[1]);
        });
      }
      group.on("add", function () { update(); s.map.on("zoomend", update); });
      group.on("remove", function () { s.map.off("zoomend", update); });
      s.hoverOn(group, function (layer) { return layer.options.cgName; });
      s.layers.basemap = group;
      return group;
    },

    /* Zones of one (profile, distance) group: geodesic buffers, not interactive. */
    zones: function (s, index) {
      var z = s.d.zones[index];
      var group = L.featureGroup();
      z.geom.forEach(function (g, j) {
        group.addLayer(shape(g, s.d.kz, {
          renderer: s.renderers.cgZones, pane: "cgZones", interactive: false,
          color: colour(z.colour), weight: 1.5, dashArray: z.dash || null,
          fillColor: colour(z.colour), fillOpacity: 0.05, cg: "zone", cgSchool: z.schools[j],
        }));
      });
      s.layers.zones[index] = group;
      return group;
    },

    schools: function (s) {
      var group = L.featureGroup();
      var rows = s.d.schools.rows;
      s.schoolLayers = s.d.schools.geom.map(function (g, i) {
        var options = {
          renderer: s.renderers.cgSchools, pane: "cgSchools", color: "#1a7f37", weight: 2,
          fillColor: "#2ea043", fillOpacity: 0.3, radius: 6, cg: "school", cgRow: i,
          searchTitle: s.d.schools.titles[i],
        };
        var layer = shape(g, s.d.k, options);
        group.addLayer(layer);
        return layer;
      });
      group.on("click", function (e) {
        s.popupAt(e.latlng, s.schoolPopup(e.layer.options.cgRow));
      });
      s.hoverOn(group, function (layer) { return rows[layer.options.cgRow][1]; });
      s.layers.schools = group;
      return group;
    },

    /* One hazard category: its markers (clustered on overviews), shapes and finding lines. */
    category: function (s, index) {
      var c = s.d.layers[index];
      var meta = s.d.cats[c.cat];
      var group = L.featureGroup();
      var icons = {};
      function icon(ring) {
        var key = ring || "";
        if (!icons[key]) {
          icons[key] = L.divIcon({
            className: "cg-haz" + (ring ? " cg-found" : ""),
            html: iconHtml(meta[1], ring, meta[2]),
            iconSize: [20, 20], iconAnchor: [10, 10], popupAnchor: [0, -8],
          });
        }
        return icons[key];
      }
      var markers = c.markers.map(function (m) {
        var row = c.rows[m[2]];
        return L.marker([m[0] / s.d.kz, m[1] / s.d.kz], {
          icon: icon(row[5]), title: (row[1] || s.t.unnamed) + " · " + meta[0],
          cg: "hazard", cgLayer: index, cgRow: m[2], keyboard: false,
        });
      });
      var holder;
      if (c.cluster) {
        var clusterIcons = {};
        holder = L.markerClusterGroup({
          // no zoom animation: with thousands of clusters it forces a layout per cluster
          chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
          disableClusteringAtZoom: 18, spiderfyOnMaxZoom: true, animate: false,
          chunkInterval: 300, chunkDelay: 10,
          chunkProgress: function (done, total) { if (done === total) s.settle(holder); },
          iconCreateFunction: function (cluster) {
            var count = cluster.getChildCount();
            if (!clusterIcons[count]) {
              var span = el("span", "cg-cluster-count", count);
              span.style.background = colour(meta[1]);
              clusterIcons[count] = L.divIcon({
                html: span.outerHTML, className: "cg-cluster", iconSize: [34, 34],
              });
            }
            return clusterIcons[count];
          },
        });
        // clustered once the group is on the map (markercluster's fast path, in chunks
        // that keep the page responsive); a hidden category costs nothing until shown
        holder.once("add", function () {
          if (!markers.length) return;
          s.wait(holder);
          holder.addLayers(markers);
        });
      } else {
        holder = L.featureGroup(markers);
      }
      holder.on("click", function (e) { s.popupAt(e.layer.getLatLng(), hazardPopup(s, e.layer)); });
      group.addLayer(holder);
      var shapes = L.featureGroup();
      c.shapes.forEach(function (f) {
        shapes.addLayer(shape(f[1], s.d.kz, {
          renderer: s.renderers.cgSchools, pane: "cgSchools", color: colour(meta[1]),
          weight: f[1][0] === 2 ? 3 : 1.5, fillOpacity: 0.25, radius: 5,
          cg: "hazard-shape", cgLayer: index, cgRow: f[0],
        }));
      });
      shapes.on("click", function (e) { s.popupAt(e.latlng, hazardPopup(s, e.layer)); });
      s.hoverOn(shapes, function (layer) { return c.rows[layer.options.cgRow][1] || meta[0]; });
      group.addLayer(shapes);
      var lines = L.featureGroup();
      c.lines.forEach(function (f) {
        lines.addLayer(L.polyline(decode(f[3], s.d.k), {
          renderer: s.renderers.cgLines, pane: "cgLines", color: colour(f[8]), weight: 3,
          opacity: 0.9, cg: "finding", cgLayer: index, cgRow: f,
        }));
      });
      lines.on("click", function (e) { s.popupAt(e.latlng, findingPopup(s, e.layer)); });
      s.hoverOn(lines, function (layer) {
        var f = layer.options.cgRow;
        return (c.rows[f[2]][1] || meta[0]) + " · " + f[4];
      });
      group.addLayer(lines);
      s.layers.categories[index] = { group: group, markers: holder, shapes: shapes, lines: lines };
      return group;
    },

    /* Search by school name (Leaflet Control Search; tips built with textContent). */
    search: function (s) {
      var t = s.t;
      var control = new L.Control.Search({
        layer: s.layers.schools, propertyName: "searchTitle", initial: false, marker: false,
        zoom: null, textPlaceholder: t.searchPlaceholder, textErr: t.searchNotFound,
        textCancel: t.cancel, autoCollapse: false, position: "topleft",
        buildTip: function (text) { return el("li", null, text); },
        moveToLocation: function (latlng) { s.openSchool(latlng.layer.options.cgRow); },
      });
      s.map.addControl(control);
      return control;
    },

    /* A panel control (summary or legend) built from [kind, ...] items: a title bar that
       collapses and expands it, and a body that scrolls within the height fitPanels gives it. */
    panel: function (s, index) {
      var spec = s.d.panels[index];
      var control = L.control({ position: spec.position });
      control.onAdd = function () {
        var box = el("div", "cg-panel cg-" + spec.kind);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        var head = el("div", "cg-panel-head");
        head.appendChild(el("div", "cg-panel-title", spec.title));
        var toggle = el("button", "cg-toggle");
        toggle.setAttribute("type", "button");
        head.appendChild(toggle);
        box.appendChild(head);
        var body = el("div", "cg-panel-body");
        box.appendChild(body);
        function show(open) {
          box.classList.toggle("cg-collapsed", !open);
          toggle.setAttribute("aria-expanded", open ? "true" : "false");
          toggle.setAttribute("aria-label", (open ? s.t.collapse : s.t.expand) + " " + spec.title);
          toggle.setAttribute("title", open ? s.t.collapse : s.t.expand);
        }
        // collapsed on opening when the map is too low for it (a laptop with browser bars)
        show(!(spec.collapseBelow && s.map.getSize().y < spec.collapseBelow));
        L.DomEvent.on(head, "click", function () {
          show(box.classList.contains("cg-collapsed"));
          campusGeo.fitPanels(s);
        });
        spec.items.forEach(function (item) {
          var row = el("div", "cg-row cg-row-" + item[0]);
          if (item[0] === "swatch" || item[0] === "glyph" || item[0] === "line" || item[0] === "zone") {
            var key = el("span", "cg-key cg-key-" + item[0], item[0] === "glyph" ? item[3] : "");
            if (item[0] === "glyph" || item[0] === "swatch") key.style.background = colour(item[2]);
            else key.style.borderColor = colour(item[2]);
            if (item[0] === "zone" && item[3]) key.style.borderStyle = "dashed";
            row.appendChild(key);
            row.appendChild(el("span", "cg-label", item[1]));
            if (item[4] !== undefined && item[4] !== null) row.appendChild(el("span", "cg-count", item[4]));
          } else if (item[0] === "stat") {
            row.appendChild(el("span", "cg-label", item[1]));
            row.appendChild(el("span", "cg-count", item[2]));
          } else if (item[0] === "link") {
            var a = el("a", "cg-link", item[1]);
            a.setAttribute("href", item[2]);
            row.appendChild(a);
          } else {
            row.textContent = item[1];
          }
          body.appendChild(row);
        });
        return box;
      };
      control.addTo(s.map);
      return control;
    },

    /* Sizes the panels' bodies to the map: on each side, the height left by the other controls
       (zoom, search, layers, scale, attribution) is shared among the expanded panels, each
       getting at most what it needs; what does not fit scrolls. Runs when the map is drawn,
       resized, and when a panel is collapsed or expanded. */
    fitPanels: function (s) {
      var container = s.map.getContainer();
      var height = container.clientHeight;
      ["left", "right"].forEach(function (side) {
        var corners = container.querySelectorAll(
          ".leaflet-top.leaflet-" + side + ", .leaflet-bottom.leaflet-" + side);
        var used = 10;  // a gap between the top and the bottom stacks
        var panels = [];
        Array.prototype.forEach.call(corners, function (corner) {
          Array.prototype.forEach.call(corner.children, function (control) {
            var style = window.getComputedStyle(control);
            used += (parseFloat(style.marginTop) || 0) + (parseFloat(style.marginBottom) || 0);
            var body = control.querySelector(".cg-panel-body");
            if (!body || control.classList.contains("cg-collapsed")) {
              used += control.offsetHeight;
              return;
            }
            used += control.offsetHeight - body.offsetHeight;  // title bar and padding
            panels.push({ body: body, need: body.scrollHeight });
          });
        });
        var space = Math.max(height - used, 0);
        panels.sort(function (a, b) { return a.need - b.need; });
        panels.forEach(function (p, i) {
          var share = Math.floor(space / (panels.length - i));
          var given = Math.max(Math.min(p.need, share), 40);
          p.body.style.maxHeight = given + "px";
          space -= given;
        });
      });
    },

    /* Marks the map as drawn (data-cg-ready on its container) once every layer is built,
       clustered and painted: tests and the benchmark wait for this. */
    done: function (s) {
      campusGeo.fitPanels(s);
      s.map.on("resize", function () { campusGeo.fitPanels(s); });
      s.closed = true;
      if (!s.pending.length) s.ready();
      return s;
    },
  };

  window.campusGeo = campusGeo;
})();
