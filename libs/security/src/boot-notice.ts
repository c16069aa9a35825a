import { Injectable } from '@nestjs/common';

/**
 * Where the security notices meant for the person starting the service go: stderr, never the JSON log stream
 * (the development key is printed here once). A port so that tests can read what was printed.
 */
@Injectable()
export class BootNotice {
  print(text: string): void {
    process.stderr.write(text);
  }
}
