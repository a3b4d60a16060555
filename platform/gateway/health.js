// GET /health on the gateway: ask every service's /health/ready through its
// gateway->service proxy (internal locations /_health/<svc>) and aggregate.
// The service list comes from the nginx variable $health_services (rendered from the
// topology), so this script stays the same for every topology and backend.

function probe(r, name) {
    return r.subrequest('/_health/' + name, { method: 'GET' })
        .then(function (reply) {
            return { name: name, code: reply.status };
        })
        .catch(function () {
            return { name: name, code: 0 };
        });
}

function aggregate(r) {
    var names = (r.variables.health_services || '').split(' ').filter(function (n) {
        return n.length > 0;
    });
    Promise.all(names.map(function (name) { return probe(r, name); }))
        .then(function (results) {
            var services = {};
            var allReady = true;
            results.forEach(function (result) {
                var ready = result.code === 200;
                allReady = allReady && ready;
                services[result.name] = {
                    status: ready ? 'ok' : 'unavailable',
                    code: result.code
                };
            });
            var body = { status: allReady ? 'ok' : 'degraded', services: services };
            r.headersOut['Content-Type'] = 'application/json';
            r.headersOut['Cache-Control'] = 'no-store';
            r.return(allReady ? 200 : 503, JSON.stringify(body));
        });
}

export default { aggregate };
