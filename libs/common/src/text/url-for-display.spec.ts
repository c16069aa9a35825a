import { urlForDisplay, withoutUrlCredentials } from './url-for-display';

describe('urlForDisplay', () => {
  it('keeps scheme, host, port and path; drops user information, query and fragment', () => {
    expect(urlForDisplay('https://user:s3cret@127.0.0.1:8443/api/?token=abc#x')).toBe('https://127.0.0.1:8443/api/');
    expect(urlForDisplay('https://localhost:9443')).toBe('https://localhost:9443');
    expect(urlForDisplay('http://127.0.0.1:8126/')).toBe('http://127.0.0.1:8126');
    expect(urlForDisplay('unix:///var/run/datadog/apm.socket')).toBe('unix:///var/run/datadog/apm.socket');
  });

  it('shows a placeholder, never the text, for what is not a URL', () => {
    expect(urlForDisplay('not a url with a token abc')).toBe('(not a URL)');
  });
});

describe('withoutUrlCredentials', () => {
  it("drops the user information of every URL in a text (an HTTP client's error quotes the URL it called)", () => {
    expect(
      withoutUrlCredentials(
        'request to http://proxy-user:Pr0xy-Pa55@127.0.0.1:8080/api/v1/validate failed, reason: connect ECONNREFUSED; ' +
          'then https://token@localhost/x and http://127.0.0.1:8126/info',
      ),
    ).toBe(
      'request to http://127.0.0.1:8080/api/v1/validate failed, reason: connect ECONNREFUSED; ' +
        'then https://localhost/x and http://127.0.0.1:8126/info',
    );
    // An address in prose is no URL's user information.
    expect(withoutUrlCredentials('mail ops@example.com')).toBe('mail ops@example.com');
  });
});
