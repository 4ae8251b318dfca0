#!/usr/bin/python3
"""A Redfish service on 127.0.0.1 for joulebench's tests: HTTPS with the certificate the test
made, HTTP/1.1 keep-alive, Basic authentication, and a scripted power profile.

Python's standard library only (http.server, ssl). Prints "READY port=<port> t0=<unix time>"
once it listens; t0 is the origin of the power profile. Test hooks (no authentication):
  GET /test/stats    {"connections" (that carried Redfish requests), "requests",
                      "reading_requests", "stalled_now"}
  GET /test/stall    reading requests hang from now on (until /test/release)
  GET /test/release  stalled requests are answered, and later ones are not held
"""

import argparse
import base64
import datetime
import json
import math
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_profile(text):
    """"200:1,300:0.5" -> [(200.0 W, 1.0 s), (300.0 W, 0.5 s)], repeated cyclically."""
    steps = []
    for item in text.split(","):
        watts, seconds = item.split(":")
        steps.append((float(watts), float(seconds)))
    return steps


class Bmc:
    def __init__(self, args):
        self.args = args
        self.profile = parse_profile(args.profile)
        self.cycle_s = sum(s for _, s in self.profile)
        self.t0 = time.time()
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self.reading_requests = 0
        self.stalled_now = 0
        self.stalling = args.stall in ("readings", "all")
        self.released = threading.Event()
        password = ""
        if args.password_file:
            with open(args.password_file) as f:
                password = f.readline().rstrip("\r\n")
        self.expected_auth = "Basic " + base64.b64encode(
            f"{args.user}:{password}".encode()).decode() if args.user else None

    def watts(self):
        """The power the BMC reports now: the profile at its last sensor refresh."""
        t = time.time() - self.t0
        if self.args.refresh > 0:
            t = math.floor(t / self.args.refresh) * self.args.refresh
        t = t % self.cycle_s
        for w, s in self.profile:
            if t < s:
                return w
            t -= s
        return self.profile[-1][0]


def chassis_doc(bmc, cid):
    base = f"/redfish/v1/Chassis/{cid}"
    if cid == "GPU_Board":
        return {"@odata.id": base, "Id": cid, "Name": "GPU baseboard", "ChassisType": "Module",
                "Links": {"ContainedBy": {"@odata.id": "/redfish/v1/Chassis/1"}},
                "EnvironmentMetrics": {"@odata.id": base + "/EnvironmentMetrics"}}
    doc = {"@odata.id": base, "@odata.type": "#Chassis.v1_25_1.Chassis", "Id": cid,
           "Name": "Computer System Chassis", "ChassisType": "RackMount",
           "Manufacturer": "Contoso", "Model": "3500RX",
           "Links": {"ComputerSystems": [{"@odata.id": "/redfish/v1/Systems/1"}]}}
    schema = bmc.args.schema
    if schema in ("power", "both"):
        doc["Power"] = {"@odata.id": base + "/Power"}
    if schema in ("environment", "both"):
        doc["EnvironmentMetrics"] = {"@odata.id": base + "/EnvironmentMetrics"}
    if schema == "psu":
        doc["PowerSubsystem"] = {"@odata.id": base + "/PowerSubsystem"}
    if bmc.args.inner_chassis:
        doc["Links"]["Contains"] = [{"@odata.id": "/redfish/v1/Chassis/GPU_Board"}]
    return doc


def resource(bmc, path):
    """(document, is_reading) for a path, or (None, False) for 404."""
    w = bmc.watts()
    reading = None if bmc.args.null_reading else w
    if path in ("/redfish/v1", "/redfish/v1/"):
        return {"@odata.id": "/redfish/v1", "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
                "Id": "RootService", "Name": "Root Service", "RedfishVersion": "1.15.0",
                "Vendor": "joulebench-test", "Product": "Fake BMC",
                "Chassis": {"@odata.id": "/redfish/v1/Chassis"}}, False
    if path == "/redfish/v1/Chassis":
        members = [{"@odata.id": "/redfish/v1/Chassis/1"}]
        if bmc.args.inner_chassis:
            members.insert(0, {"@odata.id": "/redfish/v1/Chassis/GPU_Board"})
        return {"@odata.id": path, "Members": members,
                "Members@odata.count": len(members)}, False
    if path == "/redfish/v1/Chassis/1":
        return chassis_doc(bmc, "1"), False
    if path == "/redfish/v1/Chassis/GPU_Board" and bmc.args.inner_chassis:
        return chassis_doc(bmc, "GPU_Board"), False
    if path == "/redfish/v1/Chassis/GPU_Board/EnvironmentMetrics" and bmc.args.inner_chassis:
        return {"@odata.id": path, "PowerWatts": {"Reading": 55.0}}, True
    schema = bmc.args.schema
    base = "/redfish/v1/Chassis/1"
    if path == base + "/Power" and schema in ("power", "both"):
        return {"@odata.id": path, "@odata.type": "#Power.v1_7_0.Power", "PowerControl": [
            {"@odata.id": path + "#/PowerControl/0", "MemberId": "0",
             "Name": "System Power Control", "PhysicalContext": "Chassis",
             "PowerConsumedWatts": reading,
             "PowerMetrics": {"IntervalInMin": 1, "AverageConsumedWatts": reading}}]}, True
    if path == base + "/EnvironmentMetrics" and schema in ("environment", "both"):
        excerpt = {"Reading": reading}
        if not bmc.args.no_sensor:
            excerpt["DataSourceUri"] = base + "/Sensors/TotalPower"
        return {"@odata.id": path, "@odata.type": "#EnvironmentMetrics.v1_3_0.EnvironmentMetrics",
                "PowerWatts": excerpt}, True
    if path == base + "/Sensors/TotalPower" and schema in ("environment", "both"):
        doc = {"@odata.id": path, "@odata.type": "#Sensor.v1_7_0.Sensor", "Id": "TotalPower",
               "Name": "Total power", "ReadingType": "Power", "ReadingUnits": "W",
               "Reading": reading,
               "ReadingTime": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        if bmc.args.sensing_interval:
            doc["SensingInterval"] = bmc.args.sensing_interval
        return doc, True
    if schema == "psu":
        supplies = base + "/PowerSubsystem/PowerSupplies"
        if path == base + "/PowerSubsystem":
            return {"@odata.id": path, "PowerSupplies": {"@odata.id": supplies}}, False
        if path == supplies:
            return {"@odata.id": path, "Members": [{"@odata.id": f"{supplies}/{b}"}
                                                   for b in ("Bay1", "Bay2", "Bay3")]}, False
        for bay, share in (("Bay1", 0.6), ("Bay2", 0.4)):
            if path == f"{supplies}/{bay}":
                return {"@odata.id": path, "Id": bay, "Status": {"State": "Enabled"},
                        "Metrics": {"@odata.id": path + "/Metrics"}}, False
            if path == f"{supplies}/{bay}/Metrics":
                value = None if reading is None else reading * share
                return {"@odata.id": path, "InputPowerWatts": {"Reading": value}}, True
        if path == f"{supplies}/Bay3":
            return {"@odata.id": path, "Id": "Bay3", "Status": {"State": "Absent"}}, False
    return None, False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    # Headers and body go out in two writes: without TCP_NODELAY the body waits for the
    # client's delayed ACK (40 ms on Linux), which no real BMC imposes.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, status, doc, extra_headers=()):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("OData-Version", "4.0")
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def hold(self, bmc):
        with bmc.lock:
            bmc.stalled_now += 1
        bmc.released.wait(timeout=60)
        with bmc.lock:
            bmc.stalled_now -= 1

    def do_GET(self):
        bmc = self.server.bmc
        path = self.path.split("?")[0]
        if path.startswith("/test/"):
            if path == "/test/stall":
                bmc.released.clear()
                bmc.stalling = True
            elif path == "/test/release":
                bmc.stalling = False
                bmc.released.set()
            with bmc.lock:
                stats = {"connections": bmc.connections, "requests": bmc.requests,
                         "reading_requests": bmc.reading_requests,
                         "stalled_now": bmc.stalled_now}
            self.reply(200, stats)
            return
        with bmc.lock:
            bmc.requests += 1
            # One handler per connection: count the connections that carried Redfish requests
            # (the test hooks' own connections are not the client's).
            if not getattr(self, "counted", False):
                self.counted = True
                bmc.connections += 1
        if bmc.args.stall == "all" and bmc.stalling:
            self.hold(bmc)
        # The service root is readable without credentials (DSP0266, "Authentication").
        if path not in ("/redfish/v1", "/redfish/v1/") and bmc.expected_auth is not None:
            if self.headers.get("Authorization") != bmc.expected_auth:
                self.reply(401, {"error": {"code": "Base.1.8.NoValidSession",
                                           "message": "authentication required"}},
                           [("WWW-Authenticate", 'Basic realm="Redfish"')])
                return
        doc, is_reading = resource(bmc, path)
        if doc is None:
            self.reply(404, {"error": {"code": "Base.1.8.ResourceMissingAtURI"}})
            return
        if is_reading:
            with bmc.lock:
                bmc.reading_requests += 1
            if bmc.stalling and bmc.args.stall != "all":
                self.hold(bmc)
        self.reply(200, doc)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, bmc, context):
        super().__init__(("127.0.0.1", bmc.args.port), Handler)
        self.bmc = bmc
        self.context = context

    def get_request(self):
        sock, address = self.socket.accept()
        # The TLS handshake runs in the request's thread, on its first read: a client that
        # stalls or rejects the certificate does not block accept().
        return self.context.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        pass  # a client that rejects the certificate is expected in the tests


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--schema", choices=["power", "environment", "both", "psu"], default="power")
    p.add_argument("--user", default="")
    p.add_argument("--password-file", default="")
    p.add_argument("--profile", default="250:1", help="watts:seconds,... repeated")
    p.add_argument("--refresh", type=float, default=0.0, help="sensor refresh period, s")
    p.add_argument("--sensing-interval", default="", help="published SensingInterval")
    p.add_argument("--stall", choices=["none", "readings", "all"], default="none",
                   help="readings or all requests hang from the start (none: after /test/stall)")
    p.add_argument("--null-reading", action="store_true")
    p.add_argument("--no-sensor", action="store_true", help="no DataSourceUri")
    p.add_argument("--inner-chassis", action="store_true",
                   help="a GPU_Board chassis inside chassis 1, listed first")
    args = p.parse_args()
    bmc = Bmc(args)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = Server(bmc, context)
    print(f"READY port={server.server_address[1]} t0={bmc.t0:.6f}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
