// Koban webhook media type script (Zabbix 6.0+). Zabbix passes the parameters as JSON in `value`.
// Posts them unchanged to Koban; throwing makes Zabbix retry per the media type's "Attempts".
var Koban = {
    post: function (params) {
        var request = new HttpRequest();
        request.addHeader('Content-Type: application/json');
        if (params.token && params.token.indexOf('{') !== 0) {
            request.addHeader('Authorization: Bearer ' + params.token);
        }
        if (params.HTTPProxy) {
            request.setProxy(params.HTTPProxy);
        }
        var body = {};
        Object.keys(params).forEach(function (key) {
            if (key !== 'URL' && key !== 'HTTPProxy' && key !== 'token') {
                body[key] = params[key];
            }
        });
        body.source = 'zabbix';
        var response = request.post(params.URL, JSON.stringify(body));
        var status = request.getStatus();
        Zabbix.log(4, '[ Koban webhook ] HTTP ' + status + ': ' + response);
        if (status < 200 || status >= 300) {
            throw 'Koban answered HTTP ' + status + ': ' + response;
        }
        return 'OK';
    }
};

try {
    var params = JSON.parse(value);
    if (!params.URL) {
        throw 'the URL parameter is empty';
    }
    return Koban.post(params);
} catch (error) {
    Zabbix.log(3, '[ Koban webhook ] failed: ' + error);
    throw 'Sending to Koban failed: ' + error;
}
