import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  getMetadataStorage,
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  ValidateNested,
  validateSync,
} from 'class-validator';
import { memoiseValidationMetadata } from './validation-metadata-cache';

class Part {
  @IsString() @MaxLength(5) text!: string;
}

class Base {
  @IsInt() @Min(1) id!: number;
}

class Message extends Base {
  @IsString() role!: string;
  @IsOptional() @IsString({ groups: ['strict'] }) name?: string;
  @ValidateNested({ each: true }) @Type(() => Part) parts!: Part[];
}

const plain = (m: { propertyName: string; type: string; name?: string }): string =>
  `${m.propertyName}:${m.type}:${m.name ?? ''}`;

const errorsOf = (value: object): string[] =>
  validateSync(value, { forbidUnknownValues: true }).flatMap((e) => [
    `${e.property}:${Object.keys(e.constraints ?? {}).join(',')}`,
    ...(e.children ?? []).flatMap((c) =>
      (c.children ?? []).map(
        (d) => `${e.property}.${c.property}.${d.property}:${Object.keys(d.constraints ?? {}).join(',')}`,
      ),
    ),
  ]);

function message(values: Partial<Message>): Message {
  const m = new Message();
  Object.assign(m, values);
  m.parts = (values.parts ?? []).map((p) => Object.assign(new Part(), p));
  return m;
}

describe('memoiseValidationMetadata', () => {
  const storage = getMetadataStorage();
  type Target = Parameters<typeof storage.getTargetValidationMetadatas>[0];
  const cases: [Target, boolean, boolean, string[] | undefined][] = [
    [Message, false, false, undefined],
    [Message, false, true, undefined],
    [Message, false, false, ['strict']],
    [Message, true, false, []],
    [Part, false, false, undefined],
    [Base, false, false, undefined],
  ];
  const before = cases.map(([target, always, strict, groups]) =>
    storage.getTargetValidationMetadatas(target, '', always, strict, groups).map(plain),
  );
  const invalid = message({ id: 0, role: 'user', parts: [{ text: 'far too long' }] });
  const errorsBefore = errorsOf(invalid);
  memoiseValidationMetadata();

  it('answers every lookup as class-validator does (inheritance, groups, options), and the same array again', () => {
    cases.forEach(([target, always, strict, groups], i) => {
      const first = storage.getTargetValidationMetadatas(target, '', always, strict, groups);
      expect(first.map(plain)).toEqual(before[i]);
      expect(storage.getTargetValidationMetadatas(target, '', always, strict, groups)).toBe(first);
      expect(storage.groupByPropertyName(first)).toBe(storage.groupByPropertyName(first));
    });
    // The inherited rule is there; the grouped rule is left out only with strictGroups and no group asked.
    expect(before[0]).toEqual(expect.arrayContaining(['id:customValidation:isInt', 'role:customValidation:isString']));
    expect(before[0]).toContain('name:customValidation:isString');
    expect(before[1]).not.toContain('name:customValidation:isString');
    expect(before[2]).toContain('name:customValidation:isString');
  });

  it('validates exactly as before', () => {
    expect(errorsBefore).toEqual(['parts:', 'parts.0.text:maxLength', 'id:min']);
    expect(errorsOf(invalid)).toEqual(errorsBefore);
    expect(errorsOf(message({ id: 2, role: 'user', parts: [{ text: 'ok' }] }))).toEqual([]);
  });

  it('sees rules added after a lookup (a class loaded later, a subclass gaining a rule)', () => {
    const ok = message({ id: 2, role: 'user', parts: [] });
    expect(errorsOf(ok)).toEqual([]);
    class Later extends Message {
      @IsInt() extra!: number;
    }
    const later = Object.assign(new Later(), ok);
    expect(errorsOf(later)).toEqual(['extra:isInt']);
    // A rule added to a class already looked up.
    IsString()(Part.prototype, 'lang');
    expect(storage.getTargetValidationMetadatas(Part, '', false, false).map((m) => m.propertyName)).toContain('lang');
  });
});
